//! Small helpers shared by the commands' output: SQL quoting and values as
//! plain JSON.

use cascadia::Value;

/// `name` as a quoted SQL identifier: `"Order Items"`.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A value as plain JSON: numbers, strings, null; a blob as its hex text.
pub fn json_value(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(integer) => (*integer).into(),
        Value::Real(real) => serde_json::Number::from_f64(*real)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Text(text) => text.clone().into(),
        Value::Blob(bytes) => bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into(),
    }
}

/// A key as plain JSON: its one value, or an array of its values.
pub fn json_key(key: &[Value]) -> serde_json::Value {
    match key {
        [single] => json_value(single),
        _ => key.iter().map(json_value).collect(),
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
