//! RFC 3986 percent-encoding, the one set every signed request uses: the unreserved
//! characters `A-Z a-z 0-9 - _ . ~` stay, every other byte of the UTF-8 text becomes `%XY`
//! with upper-case hex. Shared by the provider clients (Huawei paths and query, Tencent API
//! 2.0 query values) and the simulator's signature verifier.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but the RFC 3986 unreserved characters.
pub const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` with every byte outside the unreserved set percent-encoded.
pub fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exactly_the_unreserved_characters() {
        let unreserved = "ABCXYZabcxyz0189-_.~";
        assert_eq!(percent_encode(unreserved), unreserved);
        assert_eq!(
            percent_encode(" !\"#$%&'()*+,/:;<=>?@[\\]^`{|}"),
            "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D"
        );
        assert_eq!(percent_encode("é/\u{672a}"), "%C3%A9%2F%E6%9C%AA");
    }
}
