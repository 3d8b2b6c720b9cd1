//! Plain-text output: aligned tables and one-line execution summaries.

use p2p_adapters::local::WorkflowExecution;
use serde_json::Value;

use crate::workflow::end_state;

/// A left-aligned text table with a header rule.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) -> &mut Self {
        self.rows.push(cells);
        self
    }

    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                if i + 1 == columns {
                    out.push_str(cell);
                } else {
                    out.push_str(&format!("{cell:<width$}  "));
                }
            }
            out.trim_end().to_string()
        };
        let mut out = line(&self.header);
        out.push('\n');
        let total: usize = widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }
}

/// `execution <name>: <STATUS> at <end state> [<error>]`.
pub fn execution_line(execution: &WorkflowExecution) -> String {
    let mut line = format!(
        "execution {}: {}",
        execution.name,
        execution.status.as_str().to_uppercase()
    );
    if let Some(state) = end_state(execution) {
        line.push_str(&format!(" at {state}"));
    }
    if let Some((error, cause)) = error_of(execution) {
        line.push_str(&format!(" ({error}: {cause})"));
    }
    if !execution.task_tokens.is_empty() {
        line.push_str(&format!(
            ", waiting for task token {}",
            execution.task_tokens.join(", ")
        ));
    }
    line
}

/// The failure of a failed execution: `(error, cause)`.
pub fn error_of(execution: &WorkflowExecution) -> Option<(String, String)> {
    let e = execution.error.as_ref()?;
    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some((s("error"), crate::run::one_line(&s("cause"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_rules_the_header() {
        let mut t = Table::new(&["a", "long header"]);
        t.row(vec!["wide cell".into(), "x".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a          long header");
        assert_eq!(lines[1], "-".repeat(9 + 2 + 11));
        assert_eq!(lines[2], "wide cell  x");
    }
}
