/* Placeholder so the library has a source; delete when the first real file lands. */
int ml_lab_placeholder;
