//! A chain of 1,000 Pass states, each with Parameters and ResultPath.
//! Reports the time per state transition (target: <= 5 µs).

use std::collections::HashMap;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use p2p_asl::{Executor, Registry, StateMachine};
use serde_json::{json, Map, Value};

const N: usize = 1000;

fn chain() -> StateMachine {
    let mut states = Map::new();
    for i in 0..N {
        let mut s = json!({
            "Type": "Pass",
            "Parameters": {"step": i, "prev.$": "$.last.step", "id.$": "$.order.id", "name.$": "$$.State.Name"},
            "ResultPath": "$.last"
        });
        if i + 1 == N {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    let def = json!({"StartAt": "S0", "States": Value::Object(states)});
    StateMachine::from_value(def, &HashMap::new())
        .expect("valid chain")
        .with_name("PassChain")
}

fn bench(c: &mut Criterion) {
    let machine = chain();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ex = Executor::new(Registry::new());
    let input = json!({"order": {"id": "PO-1", "lines": [1, 2, 3]}, "last": {"step": -1}});

    // One explicit measurement, printed, independent of criterion's statistics.
    // Wall time suffers on a shared machine, so on-CPU time of this thread is shown too.
    let runs = 50;
    let cpu0 = thread_cpu_ns();
    let t = std::time::Instant::now();
    for _ in 0..runs {
        let e = rt.block_on(ex.start(&machine, "bench", input.clone()));
        assert_eq!(e.status(), "SUCCEEDED");
    }
    let per = t.elapsed().as_secs_f64() / (runs * N) as f64;
    let transitions = (runs * N) as f64;
    match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => println!(
            "pass_chain: {:.3} µs wall, {:.3} µs on-CPU per state transition ({N} transitions x {runs} runs)",
            per * 1e6,
            (b - a) as f64 / 1000.0 / transitions
        ),
        _ => println!("pass_chain: {:.3} µs wall per state transition ({N} transitions x {runs} runs)", per * 1e6),
    }

    let mut g = c.benchmark_group("pass_chain");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    g.bench_function("1000_pass_states", |b| {
        b.iter(|| rt.block_on(ex.start(&machine, "bench", input.clone())))
    });
    g.finish();
}

/// On-CPU nanoseconds of the current thread (Linux `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

criterion_group!(benches, bench);
criterion_main!(benches);
