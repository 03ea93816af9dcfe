//! A validator that misbehaves on purpose, for the sandbox tests and the benchmark's `fault`
//! phase. Config `mode`: `trap`, `loop`, `memory`, `recursion`, `reject`, or anything else to
//! accept; `only_with`: misbehave only on batches holding a statement containing this text.

wit_bindgen::generate!({ world: "validator", path: "../../plugin-sdk/wit/v0.1" });

use xlrs::plugin::host::config;


struct Fault;

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64, sink: &mut [u8; 256]) -> u64 {
    sink[(depth % 256) as usize] = depth as u8;
    let mut local = *sink;
    1 + recurse(depth + 1, &mut local) + local[0] as u64
}

impl Guest for Fault {
    fn validate(statements: Vec<String>) -> Result<(), Vec<Error>> {
        if let Some(marker) = config("only_with") {
            if !statements.iter().any(|s| s.contains(&marker)) {
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
            Some("reject") => Err(statements
                .iter()
                .enumerate()
                .map(|(i, _)| Error { message: "rejected on purpose".into(), statement_index: Some(i as u32) })
                .collect()),
            _ => Ok(()),
        }
    }
}

export!(Fault);
