"""PFIF read and written as a stream: files of a million records in constant memory.

:func:`tocsin.persons.pfif.parse` holds a whole document (the API's, a few MB at most); a
repository's full export (Person Finder held 670,000 records after the 2011 Tōhoku earthquake)
is read here instead, one top-level record at a time: lxml's ``iterparse`` hands over each
``<person>`` (with its nested notes) or top-level ``<note>`` once its end tag is read; it is
converted with the same checks as :mod:`~tocsin.persons.pfif`, then cleared and detached from
the root, so the tree never holds more than the record being read.

The same protections as the defusedxml reader, in lxml's terms: ``resolve_entities=False`` (an
entity reference is never expanded: no "billion laughs", no external entity), ``load_dtd=False``
and ``no_network=True`` (nothing is fetched), ``huge_tree=False`` (libxml2's limits on one text
node and on depth stay on); and a document that carries a DOCTYPE at all is refused when its
root element opens, before any record is read, as defusedxml's ``forbid_dtd`` does.

Writing streams too (:class:`Writer`, lxml's incremental ``xmlfile``): each record is
serialised and written as it comes, the export never builds the whole document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from lxml import etree

from tocsin.persons import pfif

_ROOT = re.compile(r"\{http://zesty\.ca/pfif/(\d\.\d)\}pfif")


@dataclass
class Streamed:
    """One record read from the stream: converted values, or the reasons it is refused."""

    index: int
    record_type: str  # "person" or "note"
    values: dict[str, Any]
    reasons: list[str]

    @property
    def record_id(self) -> str | None:
        value = self.values.get(f"{self.record_type}_record_id")
        return value if isinstance(value, str) else None

    def error(self) -> pfif.RecordError:
        return pfif.RecordError(self.index, self.record_type, self.record_id, self.reasons)


class Reader:
    """Iterate the records of a PFIF 1.2/1.3/1.4 file; ``version`` is known on construction.

    Raises :class:`~tocsin.persons.pfif.PfifError` when the document is not PFIF (on
    construction) or stops being well-formed (while iterating: the records read before it
    were handed out, the error names the line).
    """

    def __init__(self, source: IO[bytes]) -> None:
        self.bytes_read = 0
        self._source = source
        self._events = etree.iterparse(
            _Counting(source, self), events=("start", "end"), resolve_entities=False,
            no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
            remove_pis=True,
        )
        self._root: Any = None
        try:
            _event, root = next(self._events)
        except StopIteration:
            raise pfif.PfifError("empty document") from None
        except etree.XMLSyntaxError as exc:
            raise pfif.PfifError(f"not well-formed XML: {exc}") from None
        info = root.getroottree().docinfo
        if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
            raise pfif.PfifError("refused hostile XML: the document declares a DTD (DTDs and "
                                 "entities are not accepted)")
        match = _ROOT.fullmatch(root.tag if isinstance(root.tag, str) else "")
        if not match:
            raise pfif.PfifError("the root element is not <pfif> in a PFIF namespace "
                                 f"({pfif.NS_PREFIX}1.2, 1.3 or 1.4)")
        if match.group(1) not in pfif.VERSIONS:
            raise pfif.PfifError(f"PFIF {match.group(1)} is not supported (1.2, 1.3 and 1.4 are)")
        self.version: str = match.group(1)
        self._root = root
        self._ns = pfif.NS_PREFIX + self.version

    def __iter__(self) -> Iterator[Streamed]:
        ns, root = self._ns, self._root
        person_tag, note_tag = f"{{{ns}}}person", f"{{{ns}}}note"
        index = 0
        try:
            for event, elem in self._events:
                if event != "end" or elem.getparent() is not root:
                    continue
                if elem.tag == person_tag:
                    index += 1
                    person, reasons = pfif._person(elem, ns, self.version)
                    pid = person.get("person_record_id")
                    yield Streamed(index, "person", person, reasons)
                    for sub in elem.iterchildren(note_tag):
                        index += 1
                        note, why = pfif._note(sub, ns, pid or "")
                        yield Streamed(index, "note", note, why)
                elif elem.tag == note_tag:
                    index += 1
                    note, why = pfif._note(elem, ns, None)
                    yield Streamed(index, "note", note, why)
                # Done with it: empty it and drop it (and any text or foreign element before
                # it) from the root, so memory stays that of one record.
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del root[0]
                root.remove(elem)
        except etree.XMLSyntaxError as exc:
            raise pfif.PfifError(f"not well-formed XML after record {index}: {exc}") from None


class _Counting:
    """A file wrapper that counts the bytes lxml reads (for the progress bar)."""

    def __init__(self, source: IO[bytes], reader: Reader) -> None:
        self._source, self._reader = source, reader

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._reader.bytes_read += len(data)
        return data


class Writer:
    """Write a PFIF 1.4 document record by record (``with Writer(out) as w: w.person(...)``)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._file = etree.xmlfile(out, encoding="utf-8")
        self._contexts: list[Any] = []

    def __enter__(self) -> Writer:
        xf = self._file.__enter__()
        self._xf = xf
        xf.write_declaration()
        root = xf.element(f"{{{pfif.NS_14}}}pfif", nsmap={"pfif": pfif.NS_14})
        root.__enter__()
        self._contexts.append(root)
        xf.write("\n")
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._contexts:
            self._contexts.pop().__exit__(*exc)
        self._file.__exit__(*exc)

    def person(self, person: dict[str, Any], notes: list[dict[str, Any]]) -> None:
        """Write one person with its notes nested (PFIF 1.4 §3)."""
        elem = etree.Element(f"{{{pfif.NS_14}}}person", nsmap={"pfif": pfif.NS_14})
        _fill(elem, person, pfif.PERSON_FIELDS)
        for note in notes:
            _fill(etree.SubElement(elem, f"{{{pfif.NS_14}}}note"), note, pfif.NOTE_FIELDS)
        etree.indent(elem, space="  ", level=1)
        self._xf.write("  ", elem, "\n")

    def flush(self) -> None:
        self._xf.flush()


def _fill(elem: Any, values: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if values.get(name) is not None:
            etree.SubElement(elem, f"{{{pfif.NS_14}}}{name}").text = pfif._text(values[name])
