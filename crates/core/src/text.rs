//! Text folding for matching Arabic and Persian names (design §8): one spelling for the many
//! ways the same word is typed. Pure; the original text is always kept for display.

/// Folds `text` for comparison: removes harakat, Quranic marks, tatweel and ZWNJ/ZWJ; unifies
/// alef, yeh, kaf, teh marbuta/heh and waw forms; turns Arabic-Indic and Persian digits into
/// ASCII; lower-cases; collapses runs of whitespace into one space and trims.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for character in text.chars() {
        if let Some(mapped) = fold_char(character) {
            folded.extend(mapped.to_lowercase());
        }
    }
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One character folded, or `None` when it is dropped.
fn fold_char(character: char) -> Option<char> {
    Some(match character {
        // Harakat (fathatan … sukun and the rarer marks up to U+065F), superscript alef,
        // Quranic annotation marks, tatweel; ZWNJ and ZWJ join a word but carry no letter.
        '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06ED}'
        | '\u{0640}'
        | '\u{200C}'
        | '\u{200D}' => return None,
        // Alef with hamza above or below, with madda, alef wasla.
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        // Arabic yeh, alef maksura, yeh with hamza: the Persian yeh.
        'ي' | 'ى' | 'ئ' => 'ی',
        'ك' => 'ک',
        // Teh marbuta, heh with yeh above, ae.
        'ة' | 'ۀ' | 'ە' => 'ه',
        'ؤ' => 'و',
        '\u{0660}'..='\u{0669}' => ascii_digit(character, '\u{0660}'),
        '\u{06F0}'..='\u{06F9}' => ascii_digit(character, '\u{06F0}'),
        other => other,
    })
}

fn ascii_digit(character: char, zero: char) -> char {
    char::from_digit(u32::from(character) - u32::from(zero), 10).unwrap_or(character)
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn arabic_and_persian_spellings_of_ali_fold_to_one_key() {
        assert_eq!(fold("علي"), fold("علی"));
        assert_eq!(fold("علي"), "علی");
    }

    #[test]
    fn teh_marbuta_and_heh_spellings_of_fatemeh_fold_to_one_key() {
        assert_eq!(fold("فاطمة"), fold("فاطمه"));
    }

    #[test]
    fn shadda_and_other_harakat_are_removed() {
        assert_eq!(fold("محمّد"), fold("محمد"));
        assert_eq!(fold("مُحَمَّدٌ"), "محمد");
    }

    #[test]
    fn alef_forms_become_a_bare_alef() {
        assert_eq!(fold("أحمد"), "احمد");
        assert_eq!(fold("إبراهيم"), "ابراهیم");
        assert_eq!(fold("آمنة"), "امنه");
        assert_eq!(fold("ٱلله"), "الله");
    }

    #[test]
    fn arabic_kaf_becomes_persian_kaf_and_hamza_waw_becomes_waw() {
        assert_eq!(fold("كريم"), fold("کریم"));
        assert_eq!(fold("مؤمن"), "مومن");
    }

    #[test]
    fn tatweel_zwnj_and_quranic_marks_are_dropped() {
        assert_eq!(fold("مـــحمد"), "محمد");
        assert_eq!(fold("می\u{200C}خواهم"), "میخواهم");
        assert_eq!(fold("رحيم\u{06DA}"), "رحیم");
    }

    #[test]
    fn arabic_indic_and_persian_digits_become_ascii() {
        assert_eq!(fold("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(fold("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
    }

    #[test]
    fn latin_text_is_lower_cased_and_whitespace_collapsed() {
        assert_eq!(fold("  Layla \t  HADDAD\n"), "layla haddad");
    }

    #[test]
    fn a_full_persian_name_matches_its_arabic_keyboard_spelling() {
        assert_eq!(fold("فاطمة  زهراء علي"), fold("فاطمه زهراء علی"));
        assert_ne!(fold("علی"), fold("عمر"));
    }
}
