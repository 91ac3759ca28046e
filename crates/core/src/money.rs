//! Money at the edge of the domain: exact amounts in millionths of a currency unit, and ISO
//! 4217 currency codes. Parsing only; no arithmetic policy lives here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// An amount of money in millionths of its currency's unit, so that every currency's minor
/// unit (0 to 3 decimals) and any price with up to six decimals is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money(pub i64);

const MICROS: i64 = 1_000_000;

impl Money {
    /// A non-negative decimal number, given as a JSON number or a string (`29.99`, `"29.99"`).
    pub fn parse(field: &str, value: &Value) -> Result<Self> {
        let text = match value {
            Value::Number(number) => number.to_string(),
            Value::String(text) => text.trim().to_string(),
            _ => return Err(Error::invalid(field, "must be a number")),
        };
        let invalid = || {
            Error::invalid(
                field,
                "must be a non-negative number with at most 6 decimals",
            )
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        if whole.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || fraction.len() > 6
        {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            format!("{fraction:0<6}").parse().map_err(|_| invalid())?
        };
        whole
            .checked_mul(MICROS)
            .and_then(|micros| micros.checked_add(fraction))
            .map(Money)
            .ok_or_else(invalid)
    }

    /// The shortest decimal text: `29.99`, `30`, `0.5`.
    pub fn to_decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let micros = self.0.unsigned_abs();
        let whole = micros / MICROS as u64;
        let fraction = micros % MICROS as u64;
        if fraction == 0 {
            return format!("{sign}{whole}");
        }
        let fraction = format!("{fraction:06}");
        format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
    }
}

/// An ISO 4217 code: three letters, stored upper-case.
pub fn parse_currency(field: &str, value: &Value) -> Result<String> {
    match value {
        Value::String(text)
            if text.trim().len() == 3 && text.trim().chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            Ok(text.trim().to_ascii_uppercase())
        }
        _ => Err(Error::invalid(
            field,
            "must be a three-letter currency code",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_exact_to_the_millionth_and_refuses_what_is_not_an_amount() {
        assert_eq!(Money::parse("t", &json!(29.99)).unwrap(), Money(29_990_000));
        assert_eq!(
            Money::parse("t", &json!("0.5")).unwrap().to_decimal(),
            "0.5"
        );
        assert_eq!(Money::parse("t", &json!(30)).unwrap().to_decimal(), "30");
        for bad in [
            json!(-1),
            json!("1e3"),
            json!("1.1234567"),
            json!(true),
            json!(""),
        ] {
            assert!(Money::parse("t", &bad).is_err(), "{bad}");
        }
    }
}
