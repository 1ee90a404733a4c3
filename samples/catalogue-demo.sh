#!/bin/sh
# Catalogue for the demo delivery (samples/delivery-demo.csv): manufacturer
# HX, the single-phase class-1 direct meter DDZY285-Z (220 V, 5(60) A,
# 1200 imp/kWh, 1p2w, verification period 96 months), a city store and a
# field team. Uses METERLAB_DB (or --db passed as the first arguments): an
# administrator's login (permission catalogue.edit).
set -e
ML=${METERLAB:-meterlab}
$ML "$@" asset manufacturer add HX --name '浙江华仪电子股份有限公司'
$ML "$@" asset model add --code DDZY285-Z --manufacturer HX \
	--name '单相费控智能电能表' --kind meter_1p --class 1 \
	--connection direct --wiring 1p2w --un 220 --ib 5 --imax 60 --constant 1200 --period 96
$ML "$@" asset location add HZ-CITY --name 'Hangzhou city store (二级表库)' --kind secondary_store --parent CENTRAL
$ML "$@" asset location add TEAM-07 --name 'Field team 07' --kind field_team 2>/dev/null ||
	true # scripts/demo adds the team first (a field member belongs to it)
