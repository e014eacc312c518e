//! Benchmarks of `ews-proto`: inputs, baselines and helpers shared by the bench targets.
//!
//! * [`corpus`] generates the benchmark responses with `../shared/bench-corpus/gen_corpus.py`
//!   (deterministic, schema-valid) into the target directory, once.
//! * [`scan`] is the ceiling: a raw quick-xml event scan of the same bytes.
//! * [`inputs`] builds the requests that are encoded.
//! * [`alloc`] is a counting global allocator for the peak-memory measurement.
//!
//! See `BENCHMARKS.md` at the workspace root for the commands and the numbers.

pub mod alloc;
pub mod corpus;
pub mod inputs;
pub mod scan;

use bytes::Bytes;

/// A `200 OK` answer carrying `body`, as a driver hands it to `Operation::decode`.
pub fn ok_response(body: Bytes) -> http::Response<Bytes> {
    let mut response = http::Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}
