//! The readable copy of a person's export: one section per kind of record.

use chrono::DateTime;
use serde_json::Value;

/// `data` (from `Store::export_person`) as Markdown.
pub fn markdown(handle: &str, data: &Value) -> String {
    let mut out = format!("# Everything Carebot holds about {handle}\n\nTimes are UTC. The same data is in {handle}.json.\n");
    let Some(sections) = data.as_object() else {
        return out;
    };
    for (section, rows) in sections {
        out.push_str(&format!("\n## {}\n\n", section.replace('_', " ")));
        let rows = rows.as_array().cloned().unwrap_or_default();
        if rows.is_empty() {
            out.push_str("(none)\n");
        }
        for row in rows {
            let fields: Vec<String> = row
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{}: {}", k.trim_end_matches("_ms"), shown(k, v)))
                .collect();
            out.push_str(&format!("- {}\n", fields.join("; ")));
        }
    }
    out
}

fn shown(key: &str, v: &Value) -> String {
    match v {
        Value::Number(n) if key.ends_with("_ms") => n
            .as_i64()
            .and_then(DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| n.to_string()),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
