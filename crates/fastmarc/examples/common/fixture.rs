//! Synthetic bibliographic records for benchmarks and tests: deterministic from a seed,
//! about 1 KB each on average, with the field mix of a typical book catalogue record.
//!
//! Shared by `examples/make_fixture.rs`, `benches/read.rs` and `tests/parallel.rs`
//! (included with `#[path]`), so every benchmark and test measures the same kind of data.
#![allow(dead_code)]

use fastmarc::iso2709::write_record_to_vec;
use fastmarc::{Field, Record, Subfield, Tag, TextEncoding};

/// splitmix64: tiny, fast and good enough to vary synthetic data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
}

const SURNAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "García",
    "Müller",
    "Dvořák",
    "Nørgaard",
    "Łukasiewicz",
    "Brontë",
    "Pérez",
    "Çelik",
    "Öztürk",
    "Williams",
    "Brown",
    "Taylor",
    "Anderson",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "Lefèvre",
    "Gonçalves",
    "Ångström",
    "Šimek",
];
const FORENAMES: &[&str] = &[
    "John",
    "Mary",
    "José",
    "Zoë",
    "François",
    "Renée",
    "Søren",
    "Jürgen",
    "Ana",
    "Peter",
    "Elizabeth",
    "Michael",
    "Sarah",
    "David",
    "Anne",
    "Jiří",
    "Ærøe",
    "Noël",
    "Inês",
    "Paul",
];
/// Only written to UTF-8 records: MARC-8 would need other character sets for these.
const NON_LATIN: &[&str] = &[
    "Ἰλιάς",
    "Οδύσσεια",
    "Ἱστορίαι",
    "東京の歴史",
    "中国历史",
    "日本文学",
    "한국어 문법",
    "Война и мир",
    "Преступление и наказание",
];
const WORDS: &[&str] = &[
    "history",
    "theory",
    "practice",
    "introduction",
    "studies",
    "science",
    "art",
    "music",
    "language",
    "culture",
    "society",
    "politics",
    "economics",
    "philosophy",
    "religion",
    "education",
    "literature",
    "poetry",
    "children",
    "women",
    "war",
    "peace",
    "nature",
    "environment",
    "health",
    "medicine",
    "law",
    "computers",
    "programming",
    "networks",
    "data",
    "mathematics",
    "physics",
    "chemistry",
    "biology",
    "evolution",
    "ecology",
    "city",
    "architecture",
    "design",
    "the",
    "of",
    "and",
    "in",
    "a",
    "for",
    "on",
    "with",
    "modern",
    "early",
    "new",
    "world",
    "american",
    "european",
    "revolution",
    "century",
    "café",
    "naïve",
    "résumé",
    "élite",
    "façade",
    "über",
    "señor",
    "déjà",
    "coöperation",
];
const PLACES: &[&str] = &[
    "New York",
    "London",
    "Paris",
    "Berlin",
    "Chicago",
    "Oxford",
    "Cambridge, Mass.",
    "Boston",
    "Toronto",
    "México",
    "São Paulo",
    "Zürich",
    "Kraków",
    "Malmö",
    "Tōkyō",
];
const PUBLISHERS: &[&str] = &[
    "Oxford University Press",
    "Penguin Books",
    "Routledge",
    "Springer",
    "Wiley",
    "Cambridge University Press",
    "Éditions Gallimard",
    "Suhrkamp",
    "Random House",
    "MIT Press",
    "Harper & Row",
    "Verlag C.H. Beck",
    "Ediciones Cátedra",
];
const TOPICS: &[&str] = &[
    "Computer programming",
    "World War, 1939-1945",
    "Women",
    "Children's literature",
    "Music",
    "Architecture",
    "Philosophy, Modern",
    "Economic history",
    "Climatic changes",
    "Education, Higher",
    "Art, Renaissance",
    "Poetry",
    "Cookery",
    "Birds",
    "Railroads",
];
const SUBDIVISIONS: &[&str] = &[
    "History",
    "Criticism and interpretation",
    "Study and teaching",
    "Social aspects",
    "Philosophy",
    "Political aspects",
    "Research",
];
const FORMS: &[&str] = &[
    "Bibliography",
    "Juvenile literature",
    "Periodicals",
    "Congresses",
];
const GEO: &[&str] = &[
    "United States",
    "France",
    "Germany",
    "Japan",
    "Brazil",
    "Poland",
];

/// `min..=max` random words, the first capitalised.
fn phrase(rng: &mut Rng, min: u64, max: u64) -> String {
    let n = rng.range(min, max);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(rng.pick(WORDS));
    }
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => s,
    }
}

fn name(rng: &mut Rng) -> String {
    format!("{}, {}", rng.pick(SURNAMES), rng.pick(FORENAMES))
}

/// Title words: mostly Latin script; now and then non-Latin text in UTF-8 records.
fn title(rng: &mut Rng, marc8: bool) -> String {
    if !marc8 && rng.chance(12) {
        rng.pick(NON_LATIN).to_string()
    } else {
        phrase(rng, 2, 8)
    }
}

fn tag(s: &str) -> Tag {
    Tag::new(s).expect("fixture tags are valid")
}

/// Subfields from (code, text) pairs.
fn subfields(pairs: &[(char, String)]) -> Vec<Subfield> {
    pairs
        .iter()
        .map(|(c, v)| Subfield::new(*c, v.as_str()))
        .collect()
}

/// ANSEL (MARC-8 G1) bytes for the accented letters the word lists use: combining marks
/// come before their base letter.
fn ansel(c: char) -> Option<&'static [u8]> {
    Some(match c {
        'á' => b"\xE2a",
        'é' => b"\xE2e",
        'í' => b"\xE2i",
        'ó' => b"\xE2o",
        'ú' => b"\xE2u",
        'É' => b"\xE2E",
        'à' => b"\xE1a",
        'è' => b"\xE1e",
        'â' => b"\xE3a",
        'ê' => b"\xE3e",
        'ô' => b"\xE3o",
        'ã' => b"\xE4a",
        'ñ' => b"\xE4n",
        'õ' => b"\xE4o",
        'ä' => b"\xE8a",
        'ë' => b"\xE8e",
        'ï' => b"\xE8i",
        'ö' => b"\xE8o",
        'ü' => b"\xE8u",
        'Ö' => b"\xE8O",
        'Ü' => b"\xE8U",
        'š' => b"\xE9s",
        'Š' => b"\xE9S",
        'ř' => b"\xE9r",
        'ě' => b"\xE9e",
        'ç' => b"\xF0c",
        'Ç' => b"\xF0C",
        'ō' => b"\xE5o",
        'Å' => b"\xEAA",
        'å' => b"\xEAa",
        'ø' => b"\xB2",
        'Ø' => b"\xA2",
        'æ' => b"\xB5",
        'Æ' => b"\xA5",
        'ł' => b"\xB1",
        'Ł' => b"\xA1",
        _ => return None,
    })
}

/// MARC-8 bytes for `s`, one char per byte (the form a raw record holds them in).
fn to_marc8_chars(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let bytes: &[u8] = ansel(c).unwrap_or(b"?");
            out.extend(bytes.iter().map(|&b| char::from(b)));
        }
    }
    out
}

/// One synthetic record, number `n` in its file.
pub fn record(rng: &mut Rng, n: u64, marc8: bool) -> Record {
    let mut fields: Vec<Field> = Vec::new();
    let year = rng.range(1850, 2024);
    fields.push(Field::control(
        tag("001"),
        format!("ocm{:08}", 10_000_000 + n),
    ));
    fields.push(Field::control(tag("003"), "OCoLC"));
    fields.push(Field::control(
        tag("005"),
        format!(
            "20{:02}{:02}{:02}{:02}{:02}{:02}.0",
            rng.range(0, 24),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.range(0, 59)
        ),
    ));
    fields.push(Field::control(
        tag("008"),
        format!(
            "{:02}{:02}{:02}s{year}    {}           000 0 {} d",
            rng.range(70, 99),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.pick(&["nyu", "enk", "fr ", "gw ", "ja ", "mx "]),
            rng.pick(&["eng", "fre", "ger", "spa", "jpn"])
        ),
    ));
    for _ in 0..rng.range(0, 2) {
        fields.push(Field::data(
            tag("020"),
            ' ',
            ' ',
            subfields(&[
                ('a', format!("978{:010}", rng.range(0, 9_999_999_999))),
                (
                    'q',
                    rng.pick(&["(hardcover)", "(paperback)", "(ebook)"]).into(),
                ),
            ]),
        ));
    }
    fields.push(Field::data(
        tag("035"),
        ' ',
        ' ',
        subfields(&[('a', format!("(OCoLC){}", rng.range(1_000, 999_999_999)))]),
    ));
    fields.push(Field::data(
        tag("040"),
        ' ',
        ' ',
        subfields(&[
            ('a', "DLC".into()),
            ('b', "eng".into()),
            ('e', "rda".into()),
            ('c', "DLC".into()),
            ('d', rng.pick(&["OCLCQ", "UKMGB", "YDX", "BTCTA"]).into()),
        ]),
    ));
    fields.push(Field::data(
        tag("050"),
        '0',
        '0',
        subfields(&[
            (
                'a',
                format!(
                    "{}{}.{}",
                    rng.pick(&["QA", "PR", "HD", "BF", "ML", "NA"]),
                    rng.range(1, 9999),
                    rng.range(1, 99)
                ),
            ),
            ('b', format!(".S{} {year}", rng.range(10, 99))),
        ]),
    ));
    fields.push(Field::data(
        tag("082"),
        '0',
        '4',
        subfields(&[
            (
                'a',
                format!("{:03}.{}", rng.range(0, 999), rng.range(1, 999)),
            ),
            ('2', "23".into()),
        ]),
    ));
    let author = name(rng);
    if rng.chance(85) {
        fields.push(Field::data(
            tag("100"),
            '1',
            ' ',
            subfields(&[
                ('a', format!("{author},")),
                ('d', format!("{}-", year - rng.range(20, 70))),
                ('e', "author.".into()),
            ]),
        ));
    }
    let mut t = vec![('a', format!("{} :", title(rng, marc8)))];
    if rng.chance(60) {
        t.push(('b', format!("{} /", phrase(rng, 2, 10))));
    }
    t.push(('c', format!("by {author}.")));
    fields.push(Field::data(tag("245"), '1', '0', subfields(&t)));
    if rng.chance(30) {
        fields.push(Field::data(
            tag("250"),
            ' ',
            ' ',
            subfields(&[(
                'a',
                format!("{} edition.", rng.pick(&["2nd", "3rd", "Revised", "First"])),
            )]),
        ));
    }
    let imprint = subfields(&[
        ('a', format!("{} :", rng.pick(PLACES))),
        ('b', format!("{},", rng.pick(PUBLISHERS))),
        ('c', format!("{year}.")),
    ]);
    if rng.chance(50) {
        fields.push(Field::data(tag("264"), ' ', '1', imprint));
    } else {
        fields.push(Field::data(tag("260"), ' ', ' ', imprint));
    }
    fields.push(Field::data(
        tag("300"),
        ' ',
        ' ',
        subfields(&[
            ('a', format!("xiv, {} pages :", rng.range(40, 900))),
            ('b', "illustrations ;".into()),
            ('c', format!("{} cm", rng.range(18, 31))),
        ]),
    ));
    for (t, a, b, two) in [
        ("336", "text", "txt", "rdacontent"),
        ("337", "unmediated", "n", "rdamedia"),
        ("338", "volume", "nc", "rdacarrier"),
    ] {
        fields.push(Field::data(
            tag(t),
            ' ',
            ' ',
            subfields(&[('a', a.into()), ('b', b.into()), ('2', two.into())]),
        ));
    }
    let series = rng
        .chance(30)
        .then(|| (phrase(rng, 1, 4), rng.range(1, 120)));
    if let Some((s, v)) = &series {
        fields.push(Field::data(
            tag("490"),
            '1',
            ' ',
            subfields(&[('a', format!("{s} ;")), ('v', v.to_string())]),
        ));
    }
    for _ in 0..rng.range(0, 2) {
        fields.push(Field::data(
            tag("500"),
            ' ',
            ' ',
            subfields(&[('a', format!("{}.", phrase(rng, 3, 10)))]),
        ));
    }
    if rng.chance(60) {
        let p = rng.range(100, 800);
        fields.push(Field::data(
            tag("504"),
            ' ',
            ' ',
            subfields(&[(
                'a',
                format!(
                    "Includes bibliographical references (pages {p}-{}) and index.",
                    p + rng.range(2, 30)
                ),
            )]),
        ));
    }
    if rng.chance(55) {
        fields.push(Field::data(
            tag("520"),
            ' ',
            ' ',
            subfields(&[('a', format!("{}.", phrase(rng, 8, 30)))]),
        ));
    }
    if rng.chance(25) {
        fields.push(Field::data(
            tag("600"),
            '1',
            '0',
            subfields(&[
                ('a', format!("{},", name(rng))),
                ('d', format!("{}-{}.", year - 90, year - 20)),
                ('x', rng.pick(SUBDIVISIONS).into()),
            ]),
        ));
    }
    for _ in 0..rng.range(1, 4) {
        let mut s = vec![('a', rng.pick(TOPICS).to_string())];
        if rng.chance(50) {
            s.push(('x', rng.pick(SUBDIVISIONS).into()));
        }
        if rng.chance(30) {
            s.push(('z', rng.pick(GEO).into()));
        }
        if rng.chance(30) {
            s.push(('v', rng.pick(FORMS).into()));
        }
        fields.push(Field::data(tag("650"), ' ', '0', subfields(&s)));
    }
    if rng.chance(20) {
        fields.push(Field::data(
            tag("651"),
            ' ',
            '0',
            subfields(&[
                ('a', rng.pick(GEO).into()),
                ('x', "History".into()),
                ('y', format!("{}th century.", rng.range(16, 21))),
            ]),
        ));
    }
    for _ in 0..rng.range(0, 2) {
        fields.push(Field::data(
            tag("700"),
            '1',
            ' ',
            subfields(&[
                ('a', format!("{},", name(rng))),
                (
                    'e',
                    rng.pick(&["editor.", "translator.", "illustrator."]).into(),
                ),
            ]),
        ));
    }
    if let Some((s, v)) = &series {
        fields.push(Field::data(
            tag("830"),
            ' ',
            '0',
            subfields(&[('a', format!("{s} ;")), ('v', format!("{v}."))]),
        ));
    }
    if rng.chance(35) {
        fields.push(Field::data(
            tag("856"),
            '4',
            '0',
            subfields(&[
                (
                    'u',
                    format!(
                        "https://example.org/catalog/{}",
                        rng.range(1, 1_000_000_000)
                    ),
                ),
                ('z', "Connect to resource".into()),
            ]),
        ));
    }

    let mut rec = Record::new();
    let leader = rec.leader_mut();
    leader.set(5, *b"ncp".get(rng.range(0, 2) as usize).unwrap_or(&b'n'));
    leader.set(6, b'a');
    leader.set(7, b'm');
    leader.set(17, b' ');
    leader.set(18, b'i');
    if marc8 {
        // Raw text is written byte for byte with the leader as it is: leader/09 blank
        // says MARC-8.
        rec.set_encoding(TextEncoding::Raw);
        rec.leader_mut().set(9, b' ');
        for f in &fields {
            rec.push(&marc8_field(f));
        }
    } else {
        for f in &fields {
            rec.push(f);
        }
    }
    rec
}

fn marc8_field(f: &Field) -> Field {
    match f {
        Field::Control { tag, data } => Field::control(*tag, to_marc8_chars(data)),
        Field::Data {
            tag,
            indicators,
            subfields,
        } => Field::Data {
            tag: *tag,
            indicators: *indicators,
            subfields: subfields
                .iter()
                .map(|s| Subfield::new(s.code, to_marc8_chars(&s.value)))
                .collect(),
        },
    }
}

/// `count` records in ISO 2709, deterministic from `seed`.
pub fn file_bytes(count: u64, marc8: bool, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(count as usize * 1100);
    for n in 0..count {
        let rec = record(&mut rng, n, marc8);
        write_record_to_vec(&rec, &mut out).expect("fixture records fit ISO 2709");
    }
    out
}
