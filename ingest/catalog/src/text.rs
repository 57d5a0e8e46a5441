//! Text as people type it: Unicode normalisation, label folding, and reading numbers typed as text.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// NFC with surrounding white space (including no-break spaces) removed and inner runs collapsed.
pub fn clean(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key for comparing labels: lower case, no diacritics (đ → d), single spaces. Users reword and
/// retype labels, and files arrive in NFD; folding makes "Mã số", "MÃ SỐ" and "Ma so" the same key.
pub fn fold(s: &str) -> String {
    clean(s)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Why a text is not a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    /// A number with a non-zero fraction (`2,5`, `1.234,50`).
    Fraction,
    /// Not a number at all.
    NotANumber,
}

/// Reads a count typed as text: digits grouped by threes with one kind of separator (`1.234`, `1,234`,
/// `1 234`, no-break space), an optional zero fraction (`120.0`, `5.548,00`), an optional trailing unit
/// word (`120 người`). The sign is kept so that the caller can report `negative` separately.
pub fn parse_count_text(raw: &str) -> Result<i64, NumberError> {
    let s = clean(raw);
    let s = s.trim_start_matches('\'').trim();
    if s.is_empty() {
        return Err(NumberError::NotANumber);
    }
    // Split the number from a trailing unit word: the unit must contain no digit.
    let split = s
        .char_indices()
        .find(|(_, c)| c.is_alphabetic())
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if unit.chars().any(|c| c.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    let num = num.trim();
    let (negative, num) = match num.strip_prefix('-').or_else(|| num.strip_prefix('−')) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, num.strip_prefix('+').unwrap_or(num).trim_start()),
    };
    if num.is_empty() || !num.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    if !num
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | ' ' | '\u{a0}' | '\u{202f}'))
    {
        return Err(NumberError::NotANumber);
    }
    let (int_part, frac_part) = split_decimal(num)?;
    let digits = ungroup(int_part)?;
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(NumberError::NotANumber);
        }
        if frac.chars().any(|c| c != '0') {
            return Err(NumberError::Fraction);
        }
    }
    let value: i64 = digits.parse().map_err(|_| NumberError::NotANumber)?;
    Ok(if negative { -value } else { value })
}

/// Finds the decimal separator, if any, in a number that may also use a grouping separator.
fn split_decimal(num: &str) -> Result<(&str, Option<&str>), NumberError> {
    let dots = num.matches('.').count();
    let commas = num.matches(',').count();
    match (dots, commas) {
        (0, 0) => Ok((num, None)),
        (_, _) if dots > 0 && commas > 0 => {
            // Both present: the last one is the decimal separator and must occur once.
            let last = num.rfind(['.', ',']).unwrap_or(0);
            let sep = &num[last..last + 1];
            if num.matches(sep).count() != 1 {
                return Err(NumberError::NotANumber);
            }
            Ok((&num[..last], Some(&num[last + 1..])))
        }
        (1, 0) | (0, 1) => {
            let pos = num.find(['.', ',']).unwrap_or(0);
            let (head, tail) = (&num[..pos], &num[pos + 1..]);
            // `1.234` is one thousand two hundred thirty-four (Vietnamese grouping), `120.0` and
            // `2,5` are decimals.
            let head_digits: String = head.chars().filter(|c| c.is_ascii_digit()).collect();
            let is_grouping = tail.len() == 3
                && tail.chars().all(|c| c.is_ascii_digit())
                && !head_digits.is_empty()
                && head_digits.len() <= 3
                && !(head_digits.len() > 1 && head_digits.starts_with('0'))
                && head_digits != "0";
            if is_grouping {
                Ok((num, None))
            } else {
                Ok((head, Some(tail)))
            }
        }
        _ => Ok((num, None)), // one kind repeated: grouping
    }
}

/// Removes a grouping separator, checking that every group after the first has three digits.
fn ungroup(int_part: &str) -> Result<String, NumberError> {
    let groups: Vec<&str> = int_part.split(['.', ',', ' ', '\u{a0}', '\u{202f}']).collect();
    if groups.len() == 1 {
        return Ok(groups[0].to_owned());
    }
    let seps: Vec<char> = int_part.chars().filter(|c| !c.is_ascii_digit()).collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return Err(NumberError::NotANumber);
    }
    let first_ok = (1..=3).contains(&groups[0].len());
    if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
        return Err(NumberError::NotANumber);
    }
    Ok(groups.concat())
}

/// Reads a float cell as a count: whole numbers (also `120.0`) only.
pub fn float_to_count(v: f64) -> Result<i64, NumberError> {
    if !v.is_finite() || v.abs() > 9.0e15 {
        return Err(NumberError::NotANumber);
    }
    if v.fract() != 0.0 {
        return Err(NumberError::Fraction);
    }
    Ok(v as i64)
}

/// Formats an integer the Vietnamese way: `1.234.567`.
pub fn group_vi(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if v < 0 { format!("-{out}") } else { out }
}

/// Formats a decimal the Vietnamese way with `places` decimals: `1.234,5`.
pub fn decimal_vi(v: f64, places: usize) -> String {
    let s = format!("{:.*}", places, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int: i64 = int.parse().unwrap_or(0);
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{}", group_vi(int))
    } else {
        format!("{sign}{},{frac}", group_vi(int))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_typed_as_text() {
        let ok = [
            ("1.234", 1234),
            ("1,234", 1234),
            ("1 234", 1234),
            ("1\u{a0}234", 1234),
            ("1.234.567", 1_234_567),
            ("120.0", 120),
            ("5.548,00", 5548),
            ("1,234.00", 1234),
            ("120 người", 120),
            ("37 tin", 37),
            ("2.549 lượt", 2549),
            ("'42", 42),
            ("0", 0),
            ("-5", -5),
            (" 12 ", 12),
        ];
        for (text, want) in ok {
            assert_eq!(parse_count_text(text), Ok(want), "{text}");
        }
        let fractions = ["2,5", "1.234,50", "1.23", "0.5", "12.5 người"];
        for text in fractions {
            assert_eq!(parse_count_text(text), Err(NumberError::Fraction), "{text}");
        }
        let junk = [
            "",
            "abc",
            "không có",
            "1.2.3",
            "12a4",
            "1.23.456",
            "1,234.567,8",
            "#REF!",
        ];
        for text in junk {
            assert!(parse_count_text(text).is_err(), "{text}");
        }
    }

    #[test]
    fn folding_ignores_case_diacritics_and_normal_form() {
        let nfd: String = "Mã số".nfd().collect();
        assert_eq!(fold(&nfd), "ma so");
        assert_eq!(fold("  MÃ  SỐ "), "ma so");
        assert_eq!(fold("Đơn vị"), "don vi");
    }

    proptest::proptest! {
        /// Any count, grouped by threes with any of the separators people type, reads back as itself,
        /// with or without a trailing unit word.
        #[test]
        fn grouped_counts_read_back(n in 0i64..1_000_000_000_000, unit in proptest::bool::ANY) {
            for sep in [".", ",", " ", "\u{a0}"] {
                let mut text = group_vi(n).replace('.', sep);
                if unit {
                    text.push_str(" người");
                }
                proptest::prop_assert_eq!(parse_count_text(&text), Ok(n), "{:?}", text);
            }
        }

        /// Whatever a cell holds, reading it as a count answers (never panics).
        #[test]
        fn any_text_gets_an_answer(text in "\\PC{0,24}") {
            let _ = parse_count_text(&text);
        }
    }

    #[test]
    fn vietnamese_number_formatting() {
        assert_eq!(group_vi(1234567), "1.234.567");
        assert_eq!(group_vi(12), "12");
        assert_eq!(decimal_vi(1234.5, 1), "1.234,5");
        assert_eq!(decimal_vi(73.48182, 2), "73,48");
    }
}
