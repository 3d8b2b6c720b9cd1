//! The project's own definitions under `statemachine/` must pass the checks
//! (with placeholder substitutions for every `${...}`).
use std::collections::HashMap;

use p2p_asl::StateMachine;

#[test]
fn project_state_machines_validate() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../statemachine");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.to_string_lossy().ends_with(".asl.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut subs = HashMap::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("${") {
            let Some(j) = rest[i..].find('}') else { break };
            let key = &rest[i + 2..i + j];
            subs.insert(
                key.to_string(),
                format!("arn:aws:lambda:us-east-1:123456789012:function:{key}"),
            );
            rest = &rest[i + j..];
        }
        if let Err(e) = StateMachine::from_json(&text, &subs) {
            panic!("{}: {e}", path.display());
        }
    }
}
