//! sslbridge's fuzz targets. The bodies live in [`targets`], plain files that the corpus
//! replay test (`tests/fuzz_corpus.rs`) and the seed generator
//! (`examples/make-fuzz-corpus.rs`) include too, so all three run the same code.

pub mod targets;
