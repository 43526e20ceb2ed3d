"""MARC-in-JSON to `Record`s (pymarc 5.4.0 API)."""

from fastmarc._native import Field, Record
from fastmarc._types import Indicators
from fastmarc.leader import Leader
from fastmarc.reader import JSONReader


def _only_entry(mapping: dict):
    """The (key, value) of a one-entry MARC-in-JSON object (the last one if there are more).

    pymarc pops the entry, emptying the caller's dict; this leaves the input untouched.
    """
    for key in reversed(mapping):
        return key, mapping[key]
    raise KeyError("empty MARC-in-JSON object: expected one tag or subfield code")


class JSONHandler:
    """Turns decoded MARC-in-JSON objects into `Record`s.

    Each finished record is passed to `process_record`, which appends it to `records`;
    override it to do something else with them.
    """

    def __init__(self) -> None:
        self.records: list = []
        self._record = None
        self._field = None
        self._text: list[str] = []

    def element(self, element_dict, name=None) -> None:
        """Convert one record object (`name` None) or one of its parts."""
        if not name:
            self._record = Record()
            self.element(element_dict, "leader")
        elif name == "leader" and self._record is not None:
            self._record.leader = Leader(element_dict[name])
            self.element(element_dict, "fields")
        elif name == "fields" and self._record is not None:
            for entry in element_dict[name]:
                tag, content = _only_entry(entry)
                self._field = Field(tag)
                if self._field.control_field:
                    self._field.data = content
                else:
                    self.element(content, "subfields")
                    self._field.indicators = Indicators(content["ind1"], content["ind2"])
                self._record.add_field(self._field)
            self.process_record(self._record)
        elif name == "subfields" and self._field is not None:
            for entry in element_dict[name]:
                code, text = _only_entry(entry)
                self._field.add_subfield(code, text)

    def elements(self, dict_list) -> list:
        """Convert one record object or a list of them; returns `records`."""
        if type(dict_list) is not list:
            dict_list = [dict_list]
        for record_dict in dict_list:
            self.element(record_dict)
        return self.records

    def process_record(self, record) -> None:
        """Called with each complete record; the default keeps it in `records`."""
        self.records.append(record)


def parse_json_to_array(json_file) -> list:
    """All the records of a MARC-in-JSON document (path, text, or file object)."""
    return JSONHandler().elements(JSONReader(json_file).records)
