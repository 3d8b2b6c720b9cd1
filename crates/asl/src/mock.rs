//! Step Functions Local mock configuration (`MockConfigFile.json`):
//!
//! ```json
//! {"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<State>": "<Response>"}}}},
//!  "MockedResponses": {"<Response>": {"0": {"Return": {}}, "1-2": {"Throw": {"Error": "E", "Cause": "c"}}}}}
//! ```

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::error::MockConfigError;

/// One mocked invocation result.
#[derive(Debug, Clone, PartialEq)]
pub enum MockOutcome {
    /// `Return`: the task's result.
    Return(Value),
    /// `Throw`: a task failure.
    Throw {
        /// Error name.
        error: String,
        /// Cause.
        cause: String,
    },
}

#[derive(Debug, Deserialize)]
struct RawConfig {
    #[serde(rename = "StateMachines", default)]
    state_machines: HashMap<String, RawMachine>,
    #[serde(rename = "MockedResponses", default)]
    mocked_responses: HashMap<String, HashMap<String, Value>>,
}

#[derive(Debug, Deserialize)]
struct RawMachine {
    #[serde(rename = "TestCases", default)]
    test_cases: HashMap<String, HashMap<String, String>>,
}

/// A mocked response: invocation ranges (inclusive) to outcomes.
#[derive(Debug, Clone)]
pub struct MockedResponse {
    ranges: Vec<(u32, u32, MockOutcome)>,
}

impl MockedResponse {
    /// Outcome of the `n`-th (0-based) invocation.
    pub fn for_invocation(&self, n: u32) -> Option<&MockOutcome> {
        self.ranges
            .iter()
            .find(|(a, b, _)| n >= *a && n <= *b)
            .map(|(_, _, o)| o)
    }
}

/// A parsed mock configuration.
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    test_cases: HashMap<String, HashMap<String, HashMap<String, String>>>,
    responses: HashMap<String, MockedResponse>,
}

/// A test case selected from a config: state name to mocked response.
#[derive(Debug, Clone, Default)]
pub struct MockTestCase {
    /// Machine name.
    pub state_machine: String,
    /// Test case name.
    pub name: String,
    states: HashMap<String, MockedResponse>,
}

impl MockTestCase {
    /// The response for a state, if mocked.
    pub fn response(&self, state: &str) -> Option<&MockedResponse> {
        self.states.get(state)
    }
    /// Mocked state names.
    pub fn states(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.states.keys().map(String::as_str).collect();
        v.sort();
        v
    }
}

fn parse_key(k: &str) -> Result<(u32, u32), MockConfigError> {
    let bad =
        || MockConfigError::Invalid(format!("bad invocation key '{k}' (use \"0\" or \"1-2\")"));
    match k.split_once('-') {
        Some((a, b)) => {
            let (a, b): (u32, u32) = (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            );
            if b < a {
                return Err(bad());
            }
            Ok((a, b))
        }
        None => {
            let a: u32 = k.trim().parse().map_err(|_| bad())?;
            Ok((a, a))
        }
    }
}

impl MockConfig {
    /// Parses the JSON text of a mock config.
    pub fn from_json(text: &str) -> Result<MockConfig, MockConfigError> {
        let raw: RawConfig = serde_json::from_str(text)?;
        let mut responses = HashMap::new();
        for (name, entries) in raw.mocked_responses {
            let mut ranges = Vec::new();
            for (k, v) in entries {
                let (a, b) = parse_key(&k)?;
                let outcome = if let Some(r) = v.get("Return") {
                    MockOutcome::Return(r.clone())
                } else if let Some(t) = v.get("Throw") {
                    MockOutcome::Throw {
                        error: t
                            .get("Error")
                            .and_then(Value::as_str)
                            .unwrap_or("States.TaskFailed")
                            .to_string(),
                        cause: t
                            .get("Cause")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    }
                } else {
                    return Err(MockConfigError::Invalid(format!(
                        "mocked response '{name}' key '{k}' needs Return or Throw"
                    )));
                };
                ranges.push((a, b, outcome));
            }
            ranges.sort_by_key(|(a, _, _)| *a);
            responses.insert(name, MockedResponse { ranges });
        }
        let test_cases = raw
            .state_machines
            .into_iter()
            .map(|(k, m)| (k, m.test_cases))
            .collect::<HashMap<_, _>>();
        for (m, cases) in &test_cases {
            for (c, states) in cases {
                for (s, r) in states {
                    if !responses.contains_key(r) {
                        return Err(MockConfigError::Invalid(format!(
                            "test case {m}/{c}: state '{s}' uses unknown mocked response '{r}'"
                        )));
                    }
                }
            }
        }
        Ok(MockConfig {
            test_cases,
            responses,
        })
    }

    /// Reads and parses a mock config file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<MockConfig, MockConfigError> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    /// Selects a test case of a state machine.
    pub fn test_case(
        &self,
        state_machine: &str,
        case: &str,
    ) -> Result<MockTestCase, MockConfigError> {
        let cases = self.test_cases.get(state_machine).ok_or_else(|| {
            MockConfigError::Invalid(format!(
                "no state machine '{state_machine}' in the mock config"
            ))
        })?;
        let states = cases.get(case).ok_or_else(|| {
            MockConfigError::Invalid(format!(
                "no test case '{case}' for state machine '{state_machine}'"
            ))
        })?;
        let mut out = HashMap::new();
        for (s, r) in states {
            if let Some(resp) = self.responses.get(r) {
                out.insert(s.clone(), resp.clone());
            }
        }
        Ok(MockTestCase {
            state_machine: state_machine.to_string(),
            name: case.to_string(),
            states: out,
        })
    }

    /// State machine names and their test case names.
    pub fn test_case_names(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .test_cases
            .iter()
            .flat_map(|(m, cs)| cs.keys().map(move |c| (m.clone(), c.clone())))
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges() {
        let c = MockConfig::from_json(
            r#"{"StateMachines":{"M":{"TestCases":{"T":{"S":"R"}}}},
                "MockedResponses":{"R":{"0":{"Throw":{"Error":"E","Cause":"c"}},"1-2":{"Return":{"ok":1}}}}}"#,
        )
        .unwrap();
        let t = c.test_case("M", "T").unwrap();
        let r = t.response("S").unwrap();
        assert!(matches!(
            r.for_invocation(0),
            Some(MockOutcome::Throw { .. })
        ));
        assert_eq!(
            r.for_invocation(2),
            Some(&MockOutcome::Return(json!({"ok": 1})))
        );
        assert_eq!(r.for_invocation(3), None);
        assert!(c.test_case("M", "nope").is_err());
        assert!(MockConfig::from_json(r#"{"MockedResponses":{"R":{"x":{"Return":1}}}}"#).is_err());
    }
}
