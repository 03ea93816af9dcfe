//! A validator (Rust, on the plugin SDK) that misbehaves on purpose, for the sandbox tests and
//! the benchmark's `fault` phase. Config `mode`: `trap` (a panic), `loop`, `memory`,
//! `recursion`, `reject` (every statement rejected), or anything else to accept; `only_with`:
//! misbehave only on batches holding a statement containing this text.

use xlrs_plugin_sdk::{config, export_validator, Rejection, Statement, Validator};

struct Fault;

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64, sink: &mut [u8; 256]) -> u64 {
    sink[(depth % 256) as usize] = depth as u8;
    let mut local = *sink;
    1 + recurse(depth + 1, &mut local) + local[0] as u64
}

impl Validator for Fault {
    fn new() -> Self {
        Fault
    }

    fn validate_batch(&mut self, statements: &[Statement]) -> Result<(), Vec<Rejection>> {
        if let Some(marker) = config("only_with") {
            let marked = statements
                .iter()
                .any(|s| s.to_json().is_ok_and(|text| text.contains(&marker)));
            if !marked {
                return Ok(());
            }
        }
        match config("mode").as_deref() {
            Some("trap") => panic!("deliberate trap"),
            Some("loop") => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            Some("memory") => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 * 1024 * 1024]);
                    std::hint::black_box(&hoard);
                }
            }
            Some("recursion") => {
                let mut sink = [0u8; 256];
                let n = recurse(0, &mut sink);
                std::hint::black_box(n);
                Ok(())
            }
            Some("reject") => Err((0..statements.len())
                .map(|i| Rejection::of(i, format!("statement {i} rejected on purpose")))
                .collect()),
            _ => Ok(()),
        }
    }
}

export_validator!(Fault);
