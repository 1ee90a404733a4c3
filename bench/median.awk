# The median of numbers read one per line, already sorted (sort -g | awk -f bench/median.awk):
# the middle one, or the mean of the middle two. Used by the benchmark scripts.
{ v[NR] = $1 }
END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }
