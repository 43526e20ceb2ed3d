#!/usr/bin/env python3
"""Writes data/sample.mrc: 50 realistic MARC 21 bibliographic records in ISO 2709, UTF-8.

The records describe real, well-known books (the bibliographic facts are public);
ISBNs use a made-up publisher prefix with correct check digits. Output is
deterministic, so re-running the script reproduces the committed file byte for byte.
It deliberately writes ISO 2709 by hand (no fastmarc, no pymarc) so the sample is an
independent input for both.

    python3 tools/make_sample.py [OUTPUT]   # default: data/sample.mrc
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

FIELD_TERMINATOR = b"\x1e"
RECORD_TERMINATOR = b"\x1d"
SUBFIELD_DELIMITER = b"\x1f"
ORG_CODE = "XxFmS"  # a made-up MARC organisation code for the cataloguing agency


@dataclass
class Book:
    """One monograph (or, with serial=True, a journal) as a cataloguer would record it."""

    author: str | None  # personal name heading, inverted ("Austen, Jane")
    dates: str | None
    title: str
    subtitle: str | None
    responsibility: str | None
    place: str
    publisher: str
    year: str
    extent: str
    lang: str = "eng"
    country: str = "enk"
    original_year: str | None = None
    original_lang: str | None = None
    uniform_title: str | None = None  # 240 for translated works
    main_uniform_title: str | None = None  # 130 for anonymous works
    translator: str | None = None
    edition: str | None = None
    series: str | None = None
    series_volume: str | None = None
    notes: list[str] = field(default_factory=list)
    contents: str | None = None
    subjects: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    genre: str | None = "Fiction"
    lcc: tuple[str, str] | None = None
    ddc: str | None = None
    illustrated: bool = False
    vernacular: tuple[str, str] | None = None  # (script code, title in original script)
    serial: bool = False
    issn: str | None = None
    frequency: str | None = None
    old_style_imprint: bool = False  # 260 (pre-RDA) instead of 264


def topic(term: str, *subdivisions: tuple[str, str]) -> tuple[str, str, list[tuple[str, str]]]:
    return ("650", "0", [("a", term), *subdivisions])


def person_subject(name: str, dates: str) -> tuple[str, str, list[tuple[str, str]]]:
    return ("600", "0", [("a", name + ","), ("d", dates)])


def place_subject(name: str, *subdivisions: tuple[str, str]) -> tuple[str, str, list[tuple[str, str]]]:
    return ("651", "0", [("a", name), *subdivisions])


FICTION = ("v", "Fiction.")

BOOKS: list[Book] = [
    Book("Austen, Jane", "1775-1817", "Pride and prejudice", None, "Jane Austen ; edited with an introduction and notes by Vivien Jones",
         "London", "Penguin Books", "2003", "xliv, 435 pages", original_year="1813",
         series="Penguin classics", subjects=[topic("Courtship", ("z", "England"), FICTION), topic("Sisters", FICTION)],
         lcc=("PR4034", ".P7 2003"), ddc="823/.7", notes=["Originally published: 1813."]),
    Book("Brontë, Charlotte", "1816-1855", "Jane Eyre", None, "Charlotte Brontë ; edited by Margaret Smith",
         "Oxford", "Oxford University Press", "2008", "xl, 482 pages", original_year="1847",
         series="Oxford world's classics", subjects=[topic("Governesses", FICTION), topic("Orphans", FICTION)],
         lcc=("PR4167", ".J2 2008"), ddc="823/.8", notes=["Includes bibliographical references (pages xxxii-xxxv)."]),
    Book("Brontë, Emily", "1818-1848", "Wuthering Heights", None, "Emily Brontë",
         "New York", "Modern Library", "2000", "xxvi, 372 pages", country="nyu", original_year="1847",
         subjects=[topic("Revenge", FICTION), place_subject("Yorkshire (England)", FICTION)],
         lcc=("PR4172", ".W7 2000"), ddc="823/.8"),
    Book("Dickens, Charles", "1812-1870", "Great expectations", None, "Charles Dickens ; with an introduction by John Irving",
         "London", "Bloomsbury", "1998", "xvi, 505 pages", original_year="1861",
         subjects=[topic("Orphans", FICTION), topic("Bildungsromans")], lcc=("PR4560", ".A1 1998"), ddc="823/.8"),
    Book("Eliot, George", "1819-1880", "Middlemarch", "a study of provincial life", "George Eliot",
         "London", "Penguin Books", "1994", "xxxv, 838 pages", original_year="1871",
         series="Penguin classics", subjects=[topic("Married people", FICTION), place_subject("England", ("x", "Social life and customs"), ("y", "19th century"), FICTION)],
         lcc=("PR4662", ".A1 1994"), ddc="823/.8"),
    Book("Melville, Herman", "1819-1891", "Moby-Dick, or, The whale", None, "Herman Melville ; illustrated by Rockwell Kent",
         "New York", "Modern Library", "1992", "xxiii, 822 pages", country="nyu", original_year="1851", illustrated=True,
         subjects=[topic("Whaling", FICTION), topic("Ahab, Captain (Fictitious character)", FICTION)],
         lcc=("PS2384", ".M6 1992"), ddc="813/.3"),
    Book("Twain, Mark", "1835-1910", "Adventures of Huckleberry Finn", None, "Mark Twain ; edited by Victor Fischer and Lin Salamo",
         "Berkeley", "University of California Press", "2001", "xxxiv, 632 pages", country="cau", original_year="1884", illustrated=True,
         series="The Mark Twain library", subjects=[topic("Finn, Huckleberry (Fictitious character)", FICTION), place_subject("Mississippi River", FICTION)],
         lcc=("PS1305", ".A1 2001"), ddc="813/.4", notes=["Includes bibliographical references (pages 617-632)."]),
    Book("Hawthorne, Nathaniel", "1804-1864", "The scarlet letter", "a romance", "Nathaniel Hawthorne",
         "New York", "Penguin Books", "2003", "xxxv, 279 pages", country="nyu", original_year="1850",
         series="Penguin classics", subjects=[topic("Adultery", FICTION), topic("Puritans", FICTION), place_subject("Boston (Mass.)", FICTION)],
         lcc=("PS1868", ".A1 2003"), ddc="813/.3"),
    Book("Shelley, Mary Wollstonecraft", "1797-1851", "Frankenstein, or, The modern Prometheus", None, "Mary Shelley ; edited with an introduction and notes by Maurice Hindle",
         "London", "Penguin Books", "2003", "lix, 273 pages", original_year="1818",
         series="Penguin classics", subjects=[topic("Frankenstein's monster (Fictitious character)", FICTION), topic("Scientists", FICTION)],
         lcc=("PR5397", ".F7 2003"), ddc="823/.7"),
    Book("Stevenson, Robert Louis", "1850-1894", "Treasure Island", None, "Robert Louis Stevenson",
         "London", "Puffin", "2008", "272 pages", original_year="1883",
         subjects=[topic("Buried treasure", FICTION), topic("Pirates", FICTION)], lcc=("PR5319", ".A1 2008"), ddc="823/.8"),
    Book("Tolstoy, Leo", "graf, 1828-1910", "War and peace", None, "Leo Tolstoy ; translated from the Russian by Richard Pevear and Larissa Volokhonsky",
         "New York", "Alfred A. Knopf", "2007", "xviii, 1273 pages", country="nyu", original_year="1869", original_lang="rus",
         uniform_title="Voĭna i mir", translator="Pevear, Richard, 1943-",
         subjects=[place_subject("Russia", ("x", "History"), ("y", "1801-1825"), FICTION), topic("Napoleonic Wars, 1800-1815", ("x", "Campaigns"), ("z", "Russia"), FICTION)],
         lcc=("PG3366", ".V4 2007"), ddc="891.73/3", vernacular=("(N", "Война и мир")),
    Book("Dostoyevsky, Fyodor", "1821-1881", "Crime and punishment", None, "Fyodor Dostoevsky ; translated by Oliver Ready",
         "London", "Penguin Books", "2014", "xlv, 658 pages", original_year="1866", original_lang="rus",
         uniform_title="Prestuplenie i nakazanie", translator="Ready, Oliver",
         series="Penguin classics", subjects=[topic("Murder", FICTION), place_subject("Saint Petersburg (Russia)", FICTION)],
         lcc=("PG3326", ".P7 2014"), ddc="891.73/3", vernacular=("(N", "Преступление и наказание")),
    Book("Flaubert, Gustave", "1821-1880", "Madame Bovary", "provincial manners", "Gustave Flaubert ; translated with an introduction and notes by Margaret Mauldon",
         "Oxford", "Oxford University Press", "2004", "xxxix, 335 pages", original_year="1857", original_lang="fre",
         uniform_title="Madame Bovary", translator="Mauldon, Margaret",
         series="Oxford world's classics", subjects=[topic("Adultery", FICTION), place_subject("France", ("x", "Social life and customs"), ("y", "19th century"), FICTION)],
         lcc=("PQ2246", ".M2 2004"), ddc="843/.8"),
    Book("Hugo, Victor", "1802-1885", "Les misérables", None, "Victor Hugo ; traduit par Charles E. Wilbour",
         "Paris", "Gallimard", "1995", "2 volumes (1898 pages)", lang="fre", country="fr ", original_year="1862",
         series="Folio classique", series_volume="3223-3224",
         subjects=[topic("Ex-convicts", FICTION), place_subject("Paris (France)", ("x", "History"), ("y", "1830-1848"), FICTION)],
         lcc=("PQ2286", ".A1 1995"), ddc="843/.7"),
    Book("Cervantes Saavedra, Miguel de", "1547-1616", "Don Quijote de la Mancha", None, "Miguel de Cervantes ; edición del Instituto Cervantes dirigida por Francisco Rico",
         "Barcelona", "Crítica", "1998", "2 volumes", lang="spa", country="sp ", original_year="1605",
         subjects=[topic("Knights and knighthood", ("z", "Spain"), FICTION), topic("Don Quixote (Fictitious character)", FICTION)],
         lcc=("PQ6323", ".A1 1998"), ddc="863/.3", notes=["Edición conmemorativa del IV centenario."]),
    Book("García Márquez, Gabriel", "1927-2014", "Cien años de soledad", None, "Gabriel García Márquez",
         "Buenos Aires", "Editorial Sudamericana", "1967", "351 pages", lang="spa", country="ag ",
         subjects=[topic("Families", ("z", "Colombia"), FICTION), topic("Magic realism (Literature)")],
         lcc=("PQ8180.17", ".A73 C5 1967"), ddc="863", old_style_imprint=True),
    Book("Goethe, Johann Wolfgang von", "1749-1832", "Faust", "eine Tragödie", "Johann Wolfgang von Goethe",
         "Stuttgart", "Reclam", "2000", "141 pages", lang="ger", country="gw ", original_year="1808",
         series="Universal-Bibliothek", series_volume="Nr. 1", genre=None,
         subjects=[topic("Faust, -approximately 1540", ("v", "Drama."))],
         lcc=("PT1916", ".A1 2000"), ddc="832/.6"),
    Book("Mann, Thomas", "1875-1955", "Der Zauberberg", "Roman", "Thomas Mann",
         "Frankfurt am Main", "S. Fischer", "2002", "1104 pages", lang="ger", country="gw ", original_year="1924",
         subjects=[topic("Tuberculosis", ("x", "Patients"), FICTION), topic("Sanatoriums", ("z", "Switzerland"), FICTION)],
         lcc=("PT2625", ".A44 Z3 2002"), ddc="833/.912", notes=["Große kommentierte Frankfurter Ausgabe, Band 5.1."]),
    Book("Kafka, Franz", "1883-1924", "Der Process", "Roman in der Fassung der Handschrift", "Franz Kafka",
         "Frankfurt am Main", "Fischer Taschenbuch Verlag", "1994", "343 pages", lang="ger", country="gw ", original_year="1925",
         subjects=[topic("Trials", FICTION), topic("Bureaucracy", FICTION)], lcc=("PT2621", ".A26 P7 1994"), ddc="833/.912"),
    Book("Čapek, Karel", "1890-1938", "R.U.R. (Rossum's universal robots)", None, "Karel Čapek ; translated by Claudia Novack",
         "New York", "Penguin Books", "2004", "xxxii, 84 pages", country="nyu", original_year="1920", original_lang="cze",
         uniform_title="R.U.R.", translator="Novack, Claudia", genre=None,
         subjects=[topic("Robots", ("v", "Drama."))], lcc=("PG5038", ".C3 R213 2004"), ddc="891.8/6252"),
    Book("Hašek, Jaroslav", "1883-1923", "Osudy dobrého vojáka Švejka za světové války", None, "Jaroslav Hašek ; ilustroval Josef Lada",
         "Praha", "Baronet", "2000", "677 pages", lang="cze", country="xr ", original_year="1921", illustrated=True,
         subjects=[topic("World War, 1914-1918", FICTION), topic("Soldiers", ("z", "Czech Republic"), FICTION)],
         lcc=("PG5038", ".H35 O8 2000"), ddc="891.8/635"),
    Book("Lagerlöf, Selma", "1858-1940", "Nils Holgerssons underbara resa genom Sverige", None, "Selma Lagerlöf",
         "Stockholm", "Bonnier", "1996", "586 pages", lang="swe", country="sw ", original_year="1906", illustrated=True,
         subjects=[place_subject("Sweden", ("x", "Description and travel"), FICTION), topic("Geese", FICTION)],
         lcc=("PT9771", ".N5 1996"), ddc="839.73/72"),
    Book("Ibsen, Henrik", "1828-1906", "Et dukkehjem", "skuespil i tre akter", "Henrik Ibsen",
         "Oslo", "Gyldendal", "2005", "136 pages", lang="nor", country="no ", original_year="1879", genre=None,
         subjects=[topic("Married women", ("v", "Drama."))], lcc=("PT8868", ".A1 2005"), ddc="839.822/6"),
    Book("Kierkegaard, Søren", "1813-1855", "Frygt og bæven", "dialektisk lyrik", "Søren Kierkegaard",
         "København", "Gyldendal", "2012", "157 pages", lang="dan", country="dk ", original_year="1843", genre=None,
         subjects=[topic("Faith"), person_subject("Abraham", "(Biblical patriarch)")],
         lcc=("B4373", ".F73 2012"), ddc="198/.9"),
    Book("Dante Alighieri", "1265-1321", "La divina commedia", None, "Dante Alighieri ; a cura di Natalino Sapegno",
         "Firenze", "La Nuova Italia", "1985", "3 volumes", lang="ita", country="it ", original_year="1320", genre=None,
         subjects=[topic("Future life", ("v", "Poetry."))], lcc=("PQ4302", ".A2 1985"), ddc="851/.1",
         contents="v. 1. Inferno -- v. 2. Purgatorio -- v. 3. Paradiso."),
    Book("Eça de Queirós", "1845-1900", "Os Maias", "episódios da vida romântica", "Eça de Queirós",
         "Lisboa", "Livros do Brasil", "2000", "719 pages", lang="por", country="po ", original_year="1888",
         subjects=[place_subject("Portugal", ("x", "Social life and customs"), ("y", "19th century"), FICTION)],
         lcc=("PQ9261", ".E3 M3 2000"), ddc="869.3/3"),
    Book("Mickiewicz, Adam", "1798-1855", "Pan Tadeusz, czyli, Ostatni zajazd na Litwie", None, "Adam Mickiewicz",
         "Wrocław", "Zakład Narodowy im. Ossolińskich", "2005", "cxx, 567 pages", lang="pol", country="pl ", original_year="1834", genre=None,
         series="Biblioteka narodowa", series_volume="Seria I ; nr 83",
         subjects=[place_subject("Lithuania", ("x", "History"), ("y", "1795-1918"), ("v", "Poetry."))], lcc=("PG7158", ".M5 P3 2005"), ddc="891.8/516"),
    Book("Murasaki Shikibu", "approximately 978-approximately 1016", "The tale of Genji", None, "Murasaki Shikibu ; translated by Royall Tyler",
         "New York", "Viking", "2001", "2 volumes (xxix, 1174 pages)", country="nyu", original_lang="jpn",
         uniform_title="Genji monogatari", translator="Tyler, Royall",
         subjects=[place_subject("Japan", ("x", "Court and courtiers"), FICTION), topic("Princes", ("z", "Japan"), FICTION)],
         lcc=("PL788.4", ".G4 E5 2001"), ddc="895.6/314", vernacular=("$1", "源氏物語")),
    Book("Natsume, Sōseki", "1867-1916", "Kokoro", None, "Natsume Sōseki ; translated by Meredith McKinney",
         "New York", "Penguin Books", "2010", "xxxvi, 248 pages", country="nyu", original_year="1914", original_lang="jpn",
         uniform_title="Kokoro", translator="McKinney, Meredith",
         series="Penguin classics", subjects=[topic("Friendship", ("z", "Japan"), FICTION), topic("Guilt", FICTION)],
         lcc=("PL812", ".A8 K613 2010"), ddc="895.6/342", vernacular=("$1", "こころ")),
    Book("Cao, Xueqin", "approximately 1717-1763", "The story of the stone", "a Chinese novel", "Cao Xueqin ; translated by David Hawkes",
         "Harmondsworth", "Penguin Books", "1973", "5 volumes", original_lang="chi", uniform_title="Hong lou meng",
         translator="Hawkes, David, 1923-2009", series="Penguin classics",
         subjects=[place_subject("China", ("x", "Social life and customs"), ("y", "18th century"), FICTION)],
         lcc=("PL2727", ".S2 A28 1973"), ddc="895.1/348", vernacular=("$1", "紅樓夢"), old_style_imprint=True),
    Book("Tagore, Rabindranath", "1861-1941", "Gitanjali (song offerings)", None, "Rabindranath Tagore ; with an introduction by W.B. Yeats",
         "London", "Macmillan", "1913", "xx, 101 pages", original_lang="ben", genre=None,
         subjects=[topic("Devotional poetry, Bengali", ("v", "Translations into English."))],
         lcc=("PK1722", ".G5 1913"), ddc="891.4/414", vernacular=("(3", "গীতাঞ্জলি"), old_style_imprint=True),
    Book("Achebe, Chinua", None, "Things fall apart", None, "Chinua Achebe",
         "London", "Heinemann", "1958", "185 pages",
         subjects=[topic("Igbo (African people)", FICTION), place_subject("Nigeria", ("x", "History"), FICTION)],
         lcc=("PR9387.9", ".A3 T5 1958"), ddc="823", old_style_imprint=True),
    Book("Joyce, James", "1882-1941", "Ulysses", None, "James Joyce ; edited by Hans Walter Gabler",
         "New York", "Vintage Books", "1986", "xiv, 649 pages", country="nyu", original_year="1922", edition="Corrected text.",
         subjects=[topic("Jews", ("z", "Ireland"), FICTION), place_subject("Dublin (Ireland)", FICTION)],
         lcc=("PR6019", ".O9 U4 1986"), ddc="823/.912"),
    Book("Woolf, Virginia", "1882-1941", "To the lighthouse", None, "Virginia Woolf ; with a foreword by Eudora Welty",
         "San Diego", "Harcourt Brace Jovanovich", "1981", "xvi, 209 pages", country="cau", original_year="1927",
         subjects=[topic("Families", ("z", "Scotland"), FICTION), place_subject("Hebrides (Scotland)", FICTION)],
         lcc=("PR6045", ".O72 T6 1981"), ddc="823/.912"),
    Book("Orwell, George", "1903-1950", "Nineteen eighty-four", "a novel", "George Orwell",
         "London", "Secker & Warburg", "1949", "312 pages",
         subjects=[topic("Totalitarianism", FICTION), topic("Dystopias")], lcc=("PR6029", ".R8 N5 1949"), ddc="823/.912",
         old_style_imprint=True),
    Book("Darwin, Charles", "1809-1882", "On the origin of species by means of natural selection, or, The preservation of favoured races in the struggle for life", None, "Charles Darwin",
         "London", "John Murray", "1859", "ix, 502 pages", genre=None, illustrated=True,
         subjects=[topic("Evolution (Biology)"), topic("Natural selection")], lcc=("QH365", ".O2 1859"), ddc="576.8/2",
         notes=["Folded diagram inserted between pages 116 and 117."], old_style_imprint=True),
    Book("Smith, Adam", "1723-1790", "An inquiry into the nature and causes of the wealth of nations", None, "Adam Smith ; edited by R.H. Campbell and A.S. Skinner",
         "Indianapolis", "Liberty Fund", "1981", "2 volumes (xii, 1080 pages)", country="inu", original_year="1776", genre=None,
         series="The Glasgow edition of the works and correspondence of Adam Smith", series_volume="2",
         subjects=[topic("Economics"), topic("Wealth")], lcc=("HB161", ".S65 1981"), ddc="330.15/3",
         notes=["Reprint. Originally published: Oxford : Clarendon Press, 1976."]),
    Book("Newton, Isaac", "1642-1727", "The Principia", "mathematical principles of natural philosophy", "Isaac Newton ; a new translation by I. Bernard Cohen and Anne Whitman",
         "Berkeley", "University of California Press", "1999", "xvii, 974 pages", country="cau", original_year="1687", original_lang="lat",
         uniform_title="Principia. English", translator="Cohen, I. Bernard, 1914-2003", genre=None, illustrated=True,
         subjects=[topic("Mechanics", ("v", "Early works to 1800.")), topic("Celestial mechanics", ("v", "Early works to 1800."))],
         lcc=("QA803", ".A45 1999"), ddc="531", notes=["Includes bibliographical references and index."]),
    Book("Humboldt, Alexander von", "1769-1859", "Kosmos", "Entwurf einer physischen Weltbeschreibung", "Alexander von Humboldt ; herausgegeben von Ottmar Ette und Oliver Lubrich",
         "Frankfurt am Main", "Eichborn", "2004", "xiii, 940 pages", lang="ger", country="gw ", original_year="1845", genre=None,
         series="Die Andere Bibliothek", subjects=[topic("Physical geography"), topic("Cosmology")],
         lcc=("Q158", ".H9 2004"), ddc="500"),
    Book("Descartes, René", "1596-1650", "Discours de la méthode", None, "René Descartes ; introduction et notes par Étienne Gilson",
         "Paris", "J. Vrin", "1987", "146 pages", lang="fre", country="fr ", original_year="1637", genre=None,
         series="Bibliothèque des textes philosophiques", subjects=[topic("Methodology"), topic("Science", ("x", "Methodology"))],
         lcc=("B1848", ".F5 1987"), ddc="194"),
    Book("Montaigne, Michel de", "1533-1592", "Les essais", None, "Michel de Montaigne ; édition Villey-Saulnier",
         "Paris", "Presses universitaires de France", "2004", "3 volumes", lang="fre", country="fr ", original_year="1580", genre=None,
         series="Quadrige", subjects=[topic("Essays")], lcc=("PQ1641", ".A1 2004"), ddc="844/.3",
         contents="Livre I -- Livre II -- Livre III."),
    Book("Rousseau, Jean-Jacques", "1712-1778", "Du contrat social", None, "Jean-Jacques Rousseau ; édition de Bruno Bernardi",
         "Paris", "Flammarion", "2001", "255 pages", lang="fre", country="fr ", original_year="1762", genre=None,
         series="GF", series_volume="1058", subjects=[topic("Social contract"), topic("Political science", ("v", "Early works to 1800."))],
         lcc=("JC179", ".R7 2001"), ddc="320.1/1"),
    Book("Homer", None, "The Odyssey", None, "Homer ; translated by Emily Wilson",
         "New York", "W.W. Norton & Company", "2018", "xii, 582 pages", country="nyu", original_lang="grc",
         uniform_title="Odyssey. English", translator="Wilson, Emily R.", genre=None,
         subjects=[topic("Odysseus, King of Ithaca (Mythological character)", ("v", "Poetry.")), topic("Epic poetry, Greek", ("v", "Translations into English."))],
         lcc=("PA4025", ".A5 W55 2018"), ddc="883/.01", vernacular=("(S", "Ὀδύσσεια")),
    Book(None, None, "Beowulf", "a new verse translation", "translated by Seamus Heaney",
         "New York", "Farrar, Straus, and Giroux", "2000", "xxx, 213 pages", country="nyu", original_lang="ang",
         main_uniform_title="Beowulf. English & Old English", translator="Heaney, Seamus, 1939-2013", genre=None,
         subjects=[topic("Epic poetry, English (Old)", ("v", "Modernized versions.")), topic("Monsters", ("v", "Poetry."))],
         lcc=("PR1583", ".H43 2000"), ddc="829/.3", notes=["Parallel Old English text and modern English translation."]),
    Book(None, None, "Das Nibelungenlied", "mittelhochdeutsch / neuhochdeutsch", "nach dem Text von Karl Bartsch und Helmut de Boor ins Neuhochdeutsche übersetzt von Siegfried Grosse",
         "Stuttgart", "Reclam", "2002", "1007 pages", lang="ger", country="gw ", original_lang="gmh",
         main_uniform_title="Nibelungenlied", genre=None, series="Universal-Bibliothek", series_volume="Nr. 644",
         subjects=[topic("Epic poetry, German (Middle High German)")], lcc=("PT1579", ".A1 2002"), ddc="831/.21"),
    Book(None, None, "Kalevala", None, "Elias Lönnrot ; translated by Keith Bosley",
         "Oxford", "Oxford University Press", "1989", "lv, 679 pages", original_lang="fin",
         main_uniform_title="Kalevala. English", translator="Bosley, Keith", genre=None, series="Oxford world's classics",
         subjects=[topic("Epic poetry, Finnish", ("v", "Translations into English.")), topic("Mythology, Finno-Ugrian", ("v", "Poetry."))],
         lcc=("PH324", ".E5 B6 1989"), ddc="894/.54111"),
    Book("Carroll, Lewis", "1832-1898", "Alice's adventures in Wonderland", None, "Lewis Carroll ; illustrated by John Tenniel",
         "London", "Macmillan", "1866", "192 pages", illustrated=True,
         subjects=[topic("Fantasy fiction"), topic("Alice (Fictitious character from Carroll)", FICTION)],
         lcc=("PR4611", ".A7 1866"), ddc="823/.8", old_style_imprint=True),
    Book("Verne, Jules", "1828-1905", "Vingt mille lieues sous les mers", None, "Jules Verne ; illustrations de Neuville et Riou",
         "Paris", "J. Hetzel", "1871", "434 pages", lang="fre", country="fr ", illustrated=True,
         series="Les voyages extraordinaires", subjects=[topic("Submarines (Ships)", FICTION), topic("Nemo, Captain (Fictitious character)", FICTION)],
         lcc=("PQ2469", ".V5 1871"), ddc="843/.8", old_style_imprint=True),
    Book(None, None, "Nature", None, None,
         "London", "Macmillan Journals", "1869", "volumes", serial=True, issn="0028-0836", frequency="Weekly", genre=None,
         subjects=[topic("Science", ("v", "Periodicals."))], lcc=("Q1", ".N2"), ddc="505"),
    Book(None, None, "Journal of the Royal Society of Arts", None, None,
         "London", "Royal Society of Arts", "1852", "volumes", serial=True, issn="0035-9114", frequency="Monthly", genre=None,
         subjects=[topic("Arts", ("v", "Periodicals.")), topic("Industries", ("z", "Great Britain"), ("v", "Periodicals."))],
         lcc=("T1", ".R8"), ddc="605"),
]


LANGUAGE_NAMES = {
    "ang": "Old English", "ben": "Bengali", "chi": "Chinese", "cze": "Czech", "fin": "Finnish",
    "fre": "French", "gmh": "Middle High German", "grc": "Ancient Greek", "jpn": "Japanese",
    "lat": "Latin", "rus": "Russian",
}


def isbn13(serial: int) -> str:
    """A syntactically valid ISBN-13 under a made-up publisher prefix."""
    body = f"97899{serial:07d}"[:12]
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def subfields(*pairs: tuple[str, str]) -> bytes:
    return b"".join(SUBFIELD_DELIMITER + code.encode() + value.encode("utf-8") for code, value in pairs)


def data_field(ind1: str, ind2: str, *pairs: tuple[str, str]) -> bytes:
    return (ind1 + ind2).encode() + subfields(*pairs)


def with_period(text: str) -> str:
    return text if text.endswith((".", "?", "!", "-")) else text + "."


def fixed_length_data(book: Book, entered: str) -> str:
    """008 for books (40 positions) or continuing resources."""
    if book.serial:
        frequency = {"Weekly": "w", "Monthly": "m"}[book.frequency or "Monthly"]
        # 18 frequency, 19 regularity, 21 periodical, 29 not a conference, 33 Latin script, 34 successive entry
        value = (f"{entered}c{book.year}9999{book.country}{frequency}r p" + " " * 7
                 + "0" + " " * 3 + "a0" + f"{book.lang} d")
    else:
        date_type, date2 = ("r", book.original_year) if book.original_year else ("s", "    ")
        illustrations = "a   " if book.illustrated else "    "
        literary_form = "1" if book.genre == "Fiction" else "0"
        # 22 audience, 23 form, 24-27 contents, 28 government, 29-31 conference/festschrift/index,
        # 33 literary form, 34 biography
        value = (f"{entered}{date_type}{book.year}{date2}{book.country}{illustrations}"
                 + " " * 7 + "000 " + literary_form + " " + f"{book.lang} d")
    assert len(value) == 40, (book.title, len(value), value)
    return value


def build_fields(book: Book, number: int) -> list[tuple[str, bytes]]:
    entered = f"{(number * 7) % 24 + 1:02d}{(number % 12) + 1:02d}{(number % 27) + 1:02d}"  # yymmdd
    fields: list[tuple[str, bytes]] = [
        ("001", f"fms{number:08d}".encode()),
        ("003", ORG_CODE.encode()),
        ("005", f"2024{(number % 12) + 1:02d}{(number % 28) + 1:02d}{number % 24:02d}{number % 60:02d}{(number * 13) % 60:02d}.0".encode()),
        ("008", fixed_length_data(book, entered).encode()),
    ]
    if book.serial:
        fields.append(("022", data_field("0", " ", ("a", book.issn or ""))))
    elif int(book.year) >= 1970:
        fields.append(("020", data_field(" ", " ", ("a", isbn13(number * 37 + 1)), ("q", "paperback"))))
        if number % 3 == 0:
            fields.append(("020", data_field(" ", " ", ("a", isbn13(number * 37 + 2)), ("q", "hardcover"))))
    fields.append(("040", data_field(" ", " ", ("a", ORG_CODE), ("b", "eng"), ("e", "rda"), ("c", ORG_CODE))))
    if book.original_lang:
        fields.append(("041", data_field("1", " ", ("a", book.lang), ("h", book.original_lang))))
    if book.lcc:
        fields.append(("050", data_field(" ", "4", ("a", book.lcc[0]), ("b", book.lcc[1]))))
    if book.ddc:
        fields.append(("082", data_field("0", "4", ("a", book.ddc), ("2", "23"))))
    title_ind1 = "0"
    if book.author:
        name_pairs = [("a", book.author + ("," if book.dates else "."))]
        if book.dates:
            name_pairs.append(("d", book.dates + ("" if book.dates.endswith("-") else ".")))
        name_pairs.append(("e", "author."))
        fields.append(("100", data_field("1" if "," in book.author else "0", " ", *name_pairs)))
        title_ind1 = "1"
    elif book.main_uniform_title:
        fields.append(("130", data_field("0", " ", ("a", book.main_uniform_title + "."))))
        title_ind1 = "1"
    if book.uniform_title and book.author:
        uniform = [("a", book.uniform_title + ".")]
        if "English" not in book.uniform_title:
            uniform = [("a", book.uniform_title + "."), ("l", "English.")]
        fields.append(("240", data_field("1", "0", *uniform)))
    nonfiling = next((str(len(a)) for a in ("The ", "Les ", "La ", "Der ", "Das ", "An ", "Os ", "Et ") if book.title.startswith(a)), "0")
    title_pairs = [("a", book.title + (" :" if book.subtitle else (" /" if book.responsibility else ".")))]
    if book.subtitle:
        title_pairs.append(("b", book.subtitle + (" /" if book.responsibility else ".")))
    if book.responsibility:
        title_pairs.append(("c", with_period(book.responsibility)))
    if book.vernacular:
        title_pairs.insert(0, ("6", "880-01"))
    fields.append(("245", data_field(title_ind1, nonfiling, *title_pairs)))
    if book.edition:
        fields.append(("250", data_field(" ", " ", ("a", book.edition))))
    imprint = [("a", book.place + " :"), ("b", book.publisher + ","), ("c", book.year + ("-" if book.serial else "."))]
    if book.old_style_imprint:
        fields.append(("260", data_field(" ", " ", *imprint)))
    else:
        fields.append(("264", data_field(" ", "1", *imprint)))
        if book.original_year is None and not book.serial:
            fields.append(("264", data_field(" ", "4", ("c", "©" + book.year))))
    physical = [("a", book.extent + (" :" if book.illustrated else " ;"))]
    if book.illustrated:
        physical.append(("b", "illustrations ;"))
    physical.append(("c", "21 cm" if number % 2 else "24 cm"))
    fields.append(("300", data_field(" ", " ", *physical)))
    if book.serial:
        fields.append(("310", data_field(" ", " ", ("a", book.frequency or ""))))
        fields.append(("362", data_field("0", " ", ("a", f"Vol. 1, no. 1 ({book.year})-"))))
    fields.append(("336", data_field(" ", " ", ("a", "text"), ("b", "txt"), ("2", "rdacontent"))))
    fields.append(("337", data_field(" ", " ", ("a", "unmediated"), ("b", "n"), ("2", "rdamedia"))))
    fields.append(("338", data_field(" ", " ", ("a", "volume"), ("b", "nc"), ("2", "rdacarrier"))))
    if book.series:
        series = [("a", book.series + (" ;" if book.series_volume else ""))]
        if book.series_volume:
            series.append(("v", book.series_volume))
        fields.append(("490", data_field("1", " ", *series)))
    for note in book.notes:
        tag = "504" if note.startswith("Includes bibliographical") else "500"
        fields.append((tag, data_field(" ", " ", ("a", note))))
    if book.original_year and not any(n.startswith("Originally published") for n in book.notes):
        fields.append(("500", data_field(" ", " ", ("a", f"First published in {book.original_year}."))))
    if book.contents:
        fields.append(("505", data_field("0", " ", ("a", book.contents))))
    if book.translator and book.original_lang:
        fields.append(("546", data_field(" ", " ", ("a", f"Translated from the {LANGUAGE_NAMES[book.original_lang]}."))))
    for tag, ind2, pairs in book.subjects:
        fields.append((tag, data_field("1" if tag == "600" else " ", ind2, *pairs)))
    if book.genre:
        fields.append(("655", data_field(" ", "7", ("a", "Fiction."), ("2", "lcgft"))))
    if book.translator:
        translator_pairs = [("a", book.translator if book.translator.endswith("-") else book.translator + ",")]
        translator_pairs.append(("e", "translator."))
        fields.append(("700", data_field("1", " ", *translator_pairs)))
    if book.series:
        series_entry = [("a", book.series + (" ;" if book.series_volume else "."))]
        if book.series_volume:
            series_entry.append(("v", book.series_volume + "."))
        fields.append(("830", data_field(" ", "0", *series_entry)))
    if book.vernacular:
        script, original = book.vernacular
        fields.append(("880", data_field(title_ind1, "0", ("6", f"245-01/{script}"), ("a", original + "."))))
    return fields


def leader(record_length: int, base_address: int, book: Book, number: int) -> bytes:
    status = "c" if number % 5 == 0 else "n"
    bib_level = "s" if book.serial else "m"
    value = f"{record_length:05d}{status}a{bib_level} a22{base_address:05d} i 4500"
    assert len(value) == 24
    return value.encode()


def to_iso2709(book: Book, number: int) -> bytes:
    fields = build_fields(book, number)
    directory = b""
    body = b""
    for tag, content in fields:
        chunk = content + FIELD_TERMINATOR
        directory += tag.encode() + f"{len(chunk):04d}{len(body):05d}".encode()
        body += chunk
    base_address = 24 + len(directory) + 1
    record_length = base_address + len(body) + 1
    return leader(record_length, base_address, book, number) + directory + FIELD_TERMINATOR + body + RECORD_TERMINATOR


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "data" / "sample.mrc"
    data = b"".join(to_iso2709(book, number) for number, book in enumerate(BOOKS, start=1))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    print(f"wrote {len(BOOKS)} records ({len(data)} bytes) to {output}")


if __name__ == "__main__":
    main()
