//! micro against tonic and tarpc, side by side: the same echo service on each framework
//! ([`echo`]), one load driver ([`load`]), and the orchestrator that pins, interleaves and
//! reports ([`run`]); how cost grows with scale ([`scale`]). The `micro-bench` binary drives it; `BENCHMARKS.md` is its output.

pub mod echo;
pub mod http;
pub mod load;
pub mod run;
pub mod scale;
