//! Reading an import file (CSV or NDJSON) into [`ImportRow`]s. Parses bytes only: a row that
//! cannot be read is reported by line and the rest go on; a file whose header or keys Seam does
//! not know is refused whole, before anything is written.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The columns an import file may have (CSV header names, NDJSON keys).
pub const COLUMNS: [&str; 4] = ["name", "external_id", "emails", "phones"];

/// How the rows of an import file are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// A header line, then one customer per record; several emails or phones in one field are
    /// separated by `;`.
    Csv,
    /// One JSON object per line; `emails` and `phones` are arrays (a single string is taken too).
    Ndjson,
}

impl ImportFormat {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "csv" => Some(ImportFormat::Csv),
            "ndjson" | "jsonl" => Some(ImportFormat::Ndjson),
            _ => None,
        }
    }
}

/// One customer as the file gives it, before validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportRow {
    /// The line the row starts on (the CSV header is line 1).
    pub line: u64,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

/// A row that did not land, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// The readable rows of a file, and the unreadable ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub rows: Vec<ImportRow>,
    pub rejected: Vec<RejectedRow>,
}

/// Reads a whole file. Fails only when the file as a whole cannot be used: an unknown column
/// or key, a CSV without a header, a file that is not UTF-8.
pub fn parse_file(format: ImportFormat, bytes: &[u8]) -> Result<ParsedFile> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match format {
        ImportFormat::Csv => parse_csv(bytes),
        ImportFormat::Ndjson => parse_ndjson(bytes),
    }
}

fn column(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().as_str() {
        "name" => Some("name"),
        "external_id" => Some("external_id"),
        "email" | "emails" => Some("emails"),
        "phone" | "phones" => Some("phones"),
        _ => None,
    }
}

fn unknown_column(name: &str) -> Error {
    Error::invalid(
        "file",
        format!(
            "unknown column `{}`; the columns are {}",
            name.trim(),
            COLUMNS.join(", ")
        ),
    )
}

fn present(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

fn split_list(value: &str) -> Vec<String> {
    value.split(';').filter_map(present).collect()
}

fn parse_csv(bytes: &[u8]) -> Result<ParsedFile> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|_| Error::invalid("file", "the header line is not readable CSV in UTF-8"))?
        .clone();
    if header.iter().all(|name| name.trim().is_empty()) {
        return Err(Error::invalid("file", "is empty or has no header line"));
    }
    let mut columns = Vec::with_capacity(header.len());
    for name in header.iter() {
        let known = column(name).ok_or_else(|| unknown_column(name))?;
        if columns.contains(&known) {
            return Err(Error::invalid(
                "file",
                format!("column `{}` appears twice", name.trim()),
            ));
        }
        columns.push(known);
    }
    let mut parsed = ParsedFile::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                let line = error.position().map_or(line, |position| position.line());
                if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    parsed.rejected.push(RejectedRow {
                        line,
                        field: "row".into(),
                        reason: "is not valid UTF-8".into(),
                    });
                    continue;
                }
                return Err(Error::invalid(
                    "file",
                    format!("is not readable CSV from line {line}"),
                ));
            }
        }
        let line = record.position().map_or(line, |position| position.line());
        if record.iter().all(|value| value.trim().is_empty()) {
            continue;
        }
        if record.len() > columns.len() {
            parsed.rejected.push(RejectedRow {
                line,
                field: "row".into(),
                reason: format!(
                    "has {} fields where the header has {}",
                    record.len(),
                    columns.len()
                ),
            });
            continue;
        }
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        for (column, value) in columns.iter().zip(record.iter()) {
            match *column {
                "name" => row.name = present(value),
                "external_id" => row.external_id = present(value),
                "emails" => row.emails = split_list(value),
                _ => row.phones = split_list(value),
            }
        }
        parsed.rows.push(row);
    }
    Ok(parsed)
}

/// One NDJSON line. Unknown keys refuse the file, as unknown CSV columns do.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NdjsonRow {
    name: Option<String>,
    external_id: Option<serde_json::Value>,
    #[serde(default, alias = "email")]
    emails: Option<OneOrMany>,
    #[serde(default, alias = "phone")]
    phones: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_list(self) -> Vec<String> {
        match self {
            OneOrMany::One(value) => split_list(&value),
            OneOrMany::Many(values) => values.iter().filter_map(|value| present(value)).collect(),
        }
    }
}

fn parse_ndjson(bytes: &[u8]) -> Result<ParsedFile> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid("file", "is not UTF-8"))?;
    let mut parsed = ParsedFile::default();
    for (index, line_text) in text.lines().enumerate() {
        let line = index as u64 + 1;
        if line_text.trim().is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> =
            match serde_json::from_str(line_text) {
                Ok(object) => object,
                Err(_) => {
                    parsed.rejected.push(RejectedRow {
                        line,
                        field: "row".into(),
                        reason: "is not a JSON object".into(),
                    });
                    continue;
                }
            };
        if let Some(key) = object.keys().find(|key| column(key).is_none()) {
            return Err(unknown_column(key));
        }
        let row: NdjsonRow = match read_ndjson_row(object) {
            Ok(row) => row,
            Err(rejected) => {
                parsed.rejected.push(RejectedRow { line, ..rejected });
                continue;
            }
        };
        let external_id = match row.external_id {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(value)) => present(&value),
            Some(serde_json::Value::Number(number)) => Some(number.to_string()),
            Some(_) => {
                parsed.rejected.push(RejectedRow {
                    line,
                    field: "external_id".into(),
                    reason: "must be a string or a number".into(),
                });
                continue;
            }
        };
        parsed.rows.push(ImportRow {
            line,
            name: row.name.as_deref().and_then(present),
            external_id,
            emails: row.emails.map(OneOrMany::into_list).unwrap_or_default(),
            phones: row.phones.map(OneOrMany::into_list).unwrap_or_default(),
        });
    }
    Ok(parsed)
}

/// Reads a known-keyed object into a row, naming the key whose value has the wrong type.
fn read_ndjson_row(
    object: serde_json::Map<String, serde_json::Value>,
) -> std::result::Result<NdjsonRow, RejectedRow> {
    for (key, value) in &object {
        let fits = match column(key) {
            Some("name") => value.is_string() || value.is_null(),
            Some("emails" | "phones") => {
                value.is_null()
                    || value.is_string()
                    || value
                        .as_array()
                        .is_some_and(|items| items.iter().all(serde_json::Value::is_string))
            }
            _ => true,
        };
        if !fits {
            return Err(RejectedRow {
                line: 0,
                field: key.clone(),
                reason: "has the wrong type".into(),
            });
        }
    }
    serde_json::from_value(serde_json::Value::Object(object)).map_err(|_| RejectedRow {
        line: 0,
        field: "row".into(),
        reason: "has a key given twice or a value of the wrong type".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_split_several_emails_and_phones_on_semicolons() {
        let file = "name,email,phone,external_id\nAli,a@x.io; b@x.io,+16502530000,42\n";
        let parsed = parse_file(ImportFormat::Csv, file.as_bytes()).unwrap();
        assert_eq!(parsed.rejected, vec![]);
        assert_eq!(
            parsed.rows,
            vec![ImportRow {
                line: 2,
                name: Some("Ali".into()),
                external_id: Some("42".into()),
                emails: vec!["a@x.io".into(), "b@x.io".into()],
                phones: vec!["+16502530000".into()],
            }]
        );
    }

    #[test]
    fn an_unknown_csv_column_refuses_the_whole_file() {
        let error = parse_file(ImportFormat::Csv, b"name,email,plan\nAli,a@x.io,gold\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown column `plan`"), "{error}");
    }

    #[test]
    fn a_csv_row_with_too_many_fields_is_reported_by_line() {
        let parsed = parse_file(
            ImportFormat::Csv,
            b"name,email\nAli,a@x.io\nBo,b@x.io,extra\n",
        )
        .unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rejected[0].line, 3);
    }

    #[test]
    fn ndjson_rows_take_arrays_and_report_broken_lines() {
        let file = "{\"name\":\"Ali\",\"emails\":[\"a@x.io\",\"b@x.io\"],\"external_id\":7}\n\
                    not json\n\
                    {\"phones\":5}\n";
        let parsed = parse_file(ImportFormat::Ndjson, file.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].external_id.as_deref(), Some("7"));
        assert_eq!(parsed.rows[0].emails.len(), 2);
        let lines: Vec<(u64, &str)> = parsed
            .rejected
            .iter()
            .map(|row| (row.line, row.field.as_str()))
            .collect();
        assert_eq!(lines, vec![(2, "row"), (3, "phones")]);
    }

    #[test]
    fn an_unknown_ndjson_key_refuses_the_whole_file() {
        assert!(
            parse_file(
                ImportFormat::Ndjson,
                b"{\"name\":\"A\",\"plan\":\"gold\"}\n"
            )
            .is_err()
        );
    }
}
