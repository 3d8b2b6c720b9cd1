//! Payload templates: `Parameters`, `ItemSelector`, `ResultSelector`.
//! Keys ending in `.$` take a path, a `$$` context path or an intrinsic call;
//! constant sub-trees are kept as ready-made values.

use serde_json::{Map, Value};

use crate::error::StatesError;
use crate::intrinsics::{looks_like_intrinsic, Intrinsic};
use crate::path::Path;

/// Supplies the context object (`$$`) lazily: it is only built if a template uses it.
pub trait ContextProvider {
    /// The context object.
    fn context(&self) -> &Value;
    /// Evaluates a `$$` path; implementations may avoid building the whole object.
    fn lookup(&self, path: &Path) -> Option<Value> {
        path.select(self.context())
    }
}

impl ContextProvider for Value {
    fn context(&self) -> &Value {
        self
    }
}

/// What templates and paths are evaluated against.
pub struct Env<'a> {
    /// The state's data (`$`).
    pub input: &'a Value,
    /// The context object (`$$`).
    pub ctx: &'a dyn ContextProvider,
}

impl Env<'_> {
    /// Evaluates a path against the input or the context object.
    pub fn resolve(&self, p: &Path) -> Option<Value> {
        if p.is_context() {
            self.ctx.lookup(p)
        } else {
            p.select(self.input)
        }
    }
    /// Single-value evaluation (Choice variables and `...Path` fields).
    pub fn resolve_one(&self, p: &Path) -> Option<Value> {
        if p.is_context() {
            p.select_one(self.ctx.context())
        } else {
            p.select_one(self.input)
        }
    }
}

/// A dynamic value: path or intrinsic.
#[derive(Debug, Clone)]
pub enum Dynamic {
    /// `$...` or `$$...`.
    Path(Path),
    /// `States.X(...)`.
    Intrinsic(Intrinsic),
}

impl Dynamic {
    /// Parses the value of a `.$` field (or of `ErrorPath`/`CausePath`).
    pub fn parse(text: &str) -> Result<Dynamic, String> {
        if looks_like_intrinsic(text) {
            Intrinsic::parse(text).map(Dynamic::Intrinsic)
        } else {
            Path::parse(text).map(Dynamic::Path)
        }
    }

    /// Evaluates; a missing path gives `None`.
    pub fn eval(&self, env: &Env<'_>) -> Result<Option<Value>, StatesError> {
        match self {
            Dynamic::Path(p) => Ok(env.resolve(p)),
            Dynamic::Intrinsic(i) => i.eval(env).map(Some),
        }
    }

    /// Uses the context object?
    fn uses_context(&self) -> bool {
        match self {
            Dynamic::Path(p) => p.is_context(),
            Dynamic::Intrinsic(_) => true,
        }
    }
}

#[derive(Debug, Clone)]
enum Node {
    Const(Value),
    Object(Vec<(String, Field)>),
    Array(Vec<Node>),
}

#[derive(Debug, Clone)]
enum Field {
    Node(Node),
    Dyn(String, Dynamic),
}

/// A compiled payload template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Node,
    uses_context: bool,
}

impl Template {
    /// Compiles a template; errors name the offending field.
    pub fn compile(v: &Value) -> Result<Template, String> {
        let mut uses_context = false;
        let root = compile_node(v, &mut uses_context)?;
        Ok(Template { root, uses_context })
    }

    /// Whether evaluating may need the context object.
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// Builds the payload. Failing paths are `States.ParameterPathFailure`.
    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        eval_node(&self.root, env)
    }
}

fn compile_node(v: &Value, uc: &mut bool) -> Result<Node, String> {
    match v {
        Value::Object(o) => {
            let mut fields = Vec::with_capacity(o.len());
            let mut dynamic = false;
            for (k, x) in o {
                if let Some(name) = k.strip_suffix(".$") {
                    let text = x.as_str().ok_or_else(|| {
                        format!("field '{k}' must be a string (a path or an intrinsic function)")
                    })?;
                    let d = Dynamic::parse(text).map_err(|e| format!("field '{k}': {e}"))?;
                    *uc |= d.uses_context();
                    dynamic = true;
                    fields.push((name.to_string(), Field::Dyn(k.clone(), d)));
                } else {
                    let n = compile_node(x, uc).map_err(|e| format!("{k}: {e}"))?;
                    dynamic |= !matches!(n, Node::Const(_));
                    fields.push((k.clone(), Field::Node(n)));
                }
            }
            if dynamic {
                Ok(Node::Object(fields))
            } else {
                Ok(Node::Const(v.clone()))
            }
        }
        Value::Array(a) => {
            let nodes = a
                .iter()
                .map(|x| compile_node(x, uc))
                .collect::<Result<Vec<_>, _>>()?;
            if nodes.iter().all(|n| matches!(n, Node::Const(_))) {
                Ok(Node::Const(v.clone()))
            } else {
                Ok(Node::Array(nodes))
            }
        }
        other => Ok(Node::Const(other.clone())),
    }
}

fn eval_node(n: &Node, env: &Env<'_>) -> Result<Value, StatesError> {
    match n {
        Node::Const(v) => Ok(v.clone()),
        Node::Array(a) => a
            .iter()
            .map(|x| eval_node(x, env))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Node::Object(fields) => {
            let mut m = Map::with_capacity(fields.len());
            for (name, f) in fields {
                let v = match f {
                    Field::Node(n) => eval_node(n, env)?,
                    Field::Dyn(key, d) => d.eval(env)?.ok_or_else(|| {
                        let p = match d {
                            Dynamic::Path(p) => p.as_str(),
                            Dynamic::Intrinsic(_) => "",
                        };
                        StatesError::parameter_path(format!(
                            "The JSONPath '{p}' specified for the field '{key}' could not be found in the input"
                        ))
                    })?,
                };
                m.insert(name.clone(), v);
            }
            Ok(Value::Object(m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn template_paths_and_consts() {
        let t = Template::compile(&json!({
            "a.$": "$.x",
            "b": {"c.$": "$$.Execution.Name", "d": [1, 2]},
            "e": "literal",
            "f.$": "States.Format('{}-{}', $.x, $.y)"
        }))
        .unwrap();
        assert!(t.uses_context());
        let input = json!({"x": 1, "y": "z"});
        let ctx = json!({"Execution": {"Name": "exec"}});
        let out = t
            .eval(&Env {
                input: &input,
                ctx: &ctx,
            })
            .unwrap();
        assert_eq!(
            out,
            json!({"a": 1, "b": {"c": "exec", "d": [1, 2]}, "e": "literal", "f": "1-z"})
        );
        let missing = Template::compile(&json!({"a.$": "$.nope"})).unwrap();
        let e = missing
            .eval(&Env {
                input: &input,
                ctx: &ctx,
            })
            .unwrap_err();
        assert_eq!(e.error, "States.ParameterPathFailure");
    }

    #[test]
    fn bad_template_field() {
        assert!(Template::compile(&json!({"a.$": 3})).is_err());
        assert!(Template::compile(&json!({"a.$": "States.Nope()"})).is_err());
        assert!(Template::compile(&json!({"a.$": "x.y"})).is_err());
    }
}
