//! Comparing e-mail addresses without being fooled by look-alikes.
//!
//! Addresses are compared after Unicode NFKC and lower-casing of ASCII
//! letters only: full Unicode lower-casing folds the Kelvin sign `K`
//! (U+212A) to `k`, and NFKC folds it to `K`, so `\u{212A}eng@…` would pass
//! for `keng@…`. An address that NFKC changes (it holds compatibility
//! characters: a Kelvin sign, full-width letters, ligatures) is therefore
//! never the same person as a desk address ([`is_same_person`]); a Cyrillic
//! `е` in place of a Latin `e` is a different character after NFKC anyway.

use icu_normalizer::ComposingNormalizerBorrowed;

/// NFKC, then ASCII letters lower-cased; surrounding space trimmed.
pub fn canonical(addr: &str) -> String {
    let nfkc = ComposingNormalizerBorrowed::new_nfkc();
    nfkc.normalize(addr.trim()).to_ascii_lowercase()
}

/// Does NFKC leave the address as it is?
pub fn is_stable(addr: &str) -> bool {
    ComposingNormalizerBorrowed::new_nfkc().is_normalized(addr.trim())
}

/// `local+tag@domain` → `local@domain`, canonical.
pub fn without_plus_tag(addr: &str) -> String {
    let a = canonical(addr);
    match a.rsplit_once('@') {
        Some((local, domain)) => {
            let base = local.split_once('+').map_or(local, |(b, _)| b);
            format!("{base}@{domain}")
        }
        None => a,
    }
}

/// Is `sender` (as written in a letter) the desk address `known` (from the
/// config), plus-tags ignored? A sender that NFKC changes never is.
pub fn is_same_person(sender: &str, known: &str) -> bool {
    is_stable(sender) && without_plus_tag(sender) == without_plus_tag(known)
}

/// The domain of an address, canonical (`""` without one).
pub fn domain(addr: &str) -> String {
    canonical(addr)
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_string())
        .unwrap_or_default()
}

/// True for `localhost`, 127.0.0.0/8 and ::1.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_are_not_the_engineer() {
        let eng = "keng@sed.example.org";
        // (sender as written, is it `eng`?, the case)
        let cases = [
            ("keng@sed.example.org", true, "the address itself"),
            ("KENG@SED.example.org", true, "ASCII case"),
            ("keng+x@sed.example.org", true, "a plus-tag"),
            ("\u{212A}eng@sed.example.org", false, "Kelvin sign K"),
            ("ｋｅｎｇ@sed.example.org", false, "full-width letters"),
            ("kеng@sed.example.org", false, "Cyrillic е"),
            ("keng@sed.example.org.evil", false, "another domain"),
        ];
        for (sender, same, what) in cases {
            assert_eq!(is_same_person(sender, eng), same, "{what}");
        }
        assert_eq!(canonical(" A\u{212A}@X.org "), "ak@x.org");
        assert_eq!(without_plus_tag("Support+TP-1@Sed.org"), "support@sed.org");
        assert_eq!(domain("a@Sed.Example.org"), "sed.example.org");
    }
}
