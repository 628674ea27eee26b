//! Generation time of the googleapis-common-protos corpus: micro-gen against protox +
//! prost-build alone, interleaved in one run; reports medians and the median of per-round
//! ratios.
//!
//! ```text
//! MICRO_GOOGLEAPIS_DIR=$(scripts/fetch-googleapis.sh) cargo bench -p micro-gen --bench corpus
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn protos(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            protos(&path, out);
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
}

/// protox + prost-build, as prost users run them (formatted output, nothing written).
fn baseline(files: &[PathBuf], dir: &Path) -> usize {
    let fds = protox::compile(files, [dir]).unwrap();
    let requests = fds
        .file
        .into_iter()
        .map(|f| {
            (
                prost_build::Module::from_protobuf_package_name(f.package()),
                f,
            )
        })
        .collect();
    let modules = prost_build::Config::new().generate(requests).unwrap();
    modules.values().map(String::len).sum()
}

/// micro-gen: protox, prost-build, services, JSON glue and descriptors (nothing written).
fn micro(files: &[PathBuf], dir: &Path) -> usize {
    let out = micro_gen::configure()
        .emit_rerun_if_changed(false)
        .generate(files, &[dir])
        .unwrap();
    out.iter().map(|(_, c)| c.len()).sum()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let Some(dir) = std::env::var_os("MICRO_GOOGLEAPIS_DIR").map(PathBuf::from) else {
        println!("set MICRO_GOOGLEAPIS_DIR=$(scripts/fetch-googleapis.sh) to run this benchmark");
        return;
    };
    let mut files = Vec::new();
    protos(&dir, &mut files);
    files.sort();
    let rounds = 7;
    let (mut base_t, mut micro_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut base_bytes, mut micro_bytes) = (0, 0);
    // Warm up both (file cache, allocator).
    baseline(&files, &dir);
    micro(&files, &dir);
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut times = [Duration::ZERO; 2];
        for which in order {
            let started = Instant::now();
            if which == 0 {
                base_bytes = baseline(&files, &dir);
            } else {
                micro_bytes = micro(&files, &dir);
            }
            times[which] = started.elapsed();
        }
        base_t.push(times[0].as_secs_f64() * 1e3);
        micro_t.push(times[1].as_secs_f64() * 1e3);
        ratios.push(times[1].as_secs_f64() / times[0].as_secs_f64());
    }
    println!(
        "googleapis-common-protos: {} files, {rounds} rounds interleaved",
        files.len()
    );
    println!("| generator | median ms | output bytes |");
    println!("|---|---:|---:|");
    println!(
        "| protox + prost-build | {:.1} | {base_bytes} |",
        median(base_t)
    );
    println!("| micro-gen | {:.1} | {micro_bytes} |", median(micro_t));
    let min = ratios.iter().copied().fold(f64::MAX, f64::min);
    let max = ratios.iter().copied().fold(0.0, f64::max);
    println!(
        "median ratio micro-gen / baseline: {:.2}x (min {min:.2}x, max {max:.2}x)",
        median(ratios)
    );
}
