"""The index's postings in a layout Python reads at C speed.

Whoosh 3's codec writes each block of up to 128 postings as a zlib-compressed pickle of Python tuples (ids
delta-encoded one by one, a float per weight, a pickled list per document's positions), and reading a block
back costs a decompression, an unpickling of hundreds of objects and a Python loop to undo the deltas; at
50,000 listings a common word's postings are hundreds of blocks, which is most of a search's time (profiled:
~40% of the query mix in ``pickle.loads``, ``zlib.decompress`` and ``delta_decode``).

``CareCodec`` keeps Whoosh 3's files, term dictionary, block statistics and matcher (so skipping, block-max
scoring and every query type work as before) and changes only the bytes of a block: a fixed header, then the
document numbers as a machine array, the weights as one, and variable-length values (positions) as one
array of sizes and one run of bytes, each turned back into Python with a single ``array.frombytes``.
``CompactPositions`` stores a document's positions as an array of deltas instead of a pickled list.

Vector postings (term ids that are strings) keep Whoosh's own block format; this index stores no vectors.
The codec and the format are named in each segment's metadata, so an index written by them is read by them.
"""

from __future__ import annotations

import itertools
import struct
import sys
from array import array

import numpy as np
from whoosh import formats
from whoosh.codec import whoosh3
from whoosh.system import _INT_SIZE, pack_uint, unpack_uint

_LITTLE = sys.byteorder == "little"
# count, last id, highest weight, shortest and longest field length (as Whoosh's length bytes), how the weights
# are stored, how the values are stored
_HEADER = struct.Struct("<IIfBBBB")
_WEIGHTS_ONE, _WEIGHTS_SAME, _WEIGHTS_EACH = 0, 1, 2
_VALUES_NONE, _VALUES_FIXED, _VALUES_SIZED = 0, 1, 2
_BYTE_CODE = ord("B")


def _uint_array(values) -> tuple[str, bytes]:
    """The smallest unsigned array type holding ``values``, and their bytes (little-endian)."""
    largest = max(values, default=0)
    typecode = "B" if largest < 1 << 8 else "H" if largest < 1 << 16 else "I"
    numbers = array(typecode, values)
    if not _LITTLE:
        numbers.byteswap()
    return typecode, numbers.tobytes()


def _from_bytes(typecode: str, data) -> array:
    numbers = array(typecode)
    numbers.frombytes(data)
    if not _LITTLE:
        numbers.byteswap()
    return numbers


class CarePostingsWriter(whoosh3.W3PostingsWriter):
    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids, weights, values = self._ids, self._weights, self._values

        parts = [array("I", ids)]
        if all(weight == 1.0 for weight in weights):
            weight_kind = _WEIGHTS_ONE
        elif all(weight == weights[0] for weight in weights):
            weight_kind = _WEIGHTS_SAME
            parts.append(array("f", weights[:1]))
        else:
            weight_kind = _WEIGHTS_EACH
            parts.append(array("f", weights))
        if not _LITTLE:
            for part in parts:
                part.byteswap()
        body = [part.tobytes() for part in parts]

        fixed = self._format.fixed_value_size()
        if not values:
            value_kind = _VALUES_NONE
        elif fixed is not None and fixed >= 0:
            value_kind = _VALUES_FIXED
            body.append(b"".join(values))
        else:
            value_kind = _VALUES_SIZED
            typecode, sizes = _uint_array([len(value) for value in values])
            body += [typecode.encode("ascii"), sizes, b"".join(values)]

        header = _HEADER.pack(len(ids), ids[-1], self._maxweight, whoosh3.length_to_byte(self._minlength),
                              whoosh3.length_to_byte(self._maxlength), weight_kind, value_kind)
        block = header + b"".join(body)
        self._postfile.write_int(-len(block) if last else len(block))
        self._postfile.write(block)
        self._blockcount += 1
        self._new_block()


class CareLeafMatcher(whoosh3.W3LeafMatcher):
    """Whoosh 3's block matcher reading CarePostingsWriter's blocks."""

    def _goto(self, position: int) -> None:
        postfile = self._postfile
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        length = postfile.get_int(position)
        if length < 0:
            self._lastblock = True
            length = -length
        start = position + _INT_SIZE
        self._nextoffset = start + length
        self._dataoffset = start + _HEADER.size
        (self._blocklength, self._maxid, self._maxweight, minlength, maxlength, self._weight_kind,
         self._value_kind) = _HEADER.unpack(postfile.get(start, _HEADER.size))
        self._compression = 0
        self._minlength = whoosh3.byte_to_length(minlength)
        self._maxlength = whoosh3.byte_to_length(maxlength)

    def _read_data(self) -> None:
        self._data = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)

    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        self._ids = _from_bytes("I", self._data[:4 * self._blocklength])

    def _weights_end(self) -> int:
        start = 4 * self._blocklength
        return start + {_WEIGHTS_ONE: 0, _WEIGHTS_SAME: 4, _WEIGHTS_EACH: 4 * self._blocklength}[self._weight_kind]

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        count = self._blocklength
        if self._weight_kind == _WEIGHTS_ONE:
            self._weights = array("f", itertools.repeat(1.0, count))
        else:
            weights = _from_bytes("f", self._data[4 * count:self._weights_end()])
            self._weights = weights if self._weight_kind == _WEIGHTS_EACH else array("f", weights * count)

    def block_arrays(self):
        """The block's (document numbers as int64, weights as float64) numpy arrays, for scoring."""
        if self._data is None:
            self._read_data()
        count, data = self._blocklength, self._data
        ids = np.frombuffer(data, dtype="<u4", count=count).astype(np.int64)
        if self._weight_kind == _WEIGHTS_ONE:
            weights = np.ones(count, dtype=np.float64)
        elif self._weight_kind == _WEIGHTS_SAME:
            weights = np.full(count, np.frombuffer(data, dtype="<f4", count=1, offset=4 * count)[0], dtype=np.float64)
        else:
            weights = np.frombuffer(data, dtype="<f4", count=count, offset=4 * count).astype(np.float64)
        return ids, weights

    def _read_values(self) -> None:
        if self._data is None:
            self._read_data()
        count, kind = self._blocklength, self._value_kind
        if kind == _VALUES_NONE:
            self._values = (None,) * count if self._fixedsize == 0 else (b"",) * count
            return
        data = self._data
        start = self._weights_end()
        if kind == _VALUES_FIXED:
            size = self._fixedsize
            self._values = tuple(data[i:i + size] for i in range(start, start + size * count, size))
            return
        typecode = chr(data[start])
        itemsize = array(typecode).itemsize
        sizes = _from_bytes(typecode, data[start + 1:start + 1 + itemsize * count])
        position = start + 1 + itemsize * count
        values = []
        for size in sizes:
            values.append(data[position:position + size])
            position += size
        self._values = tuple(values)


class CareCodec(whoosh3.W3Codec):
    """Whoosh 3's codec with CarePostingsWriter's blocks for document postings (see the module's text)."""

    def __init__(self, blocklimit: int = 128, compression: int = 0, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids: bool = False):
        if byteids:  # vector postings: Whoosh's reader for them is fixed to its own format
            return super().postings_writer(dbfile, byteids=True)
        return CarePostingsWriter(dbfile, blocklimit=self._blocklimit, compression=0,
                                  inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return CareLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


# Terms starting with this are markers the analyzer adds (search.concepts), not words the listing says: they do
# not count towards a field's length, so a listing's scores are what they would be without them.
UNCOUNTED_PREFIX = "~"


class CompactPositions(formats.Positions):
    """Whoosh's Positions format with each document's positions stored as an array of deltas (a pickled
    list before): the frequency first, as Whoosh's, then the array's type code and bytes. Terms starting with
    UNCOUNTED_PREFIX are given a frequency of 0 for the field's length."""

    def word_values(self, value, analyzer, **kwargs):
        positions: dict[str, list[int]] = {}
        weights: dict[str, float] = {}
        kwargs["positions"] = True
        kwargs["boosts"] = True
        for token in formats.tokens(value, analyzer, kwargs):
            positions.setdefault(token.text, []).append(token.pos)
            weights[token.text] = weights.get(token.text, 0.0) + token.boost
        for word, poslist in positions.items():
            counted = 0 if word.startswith(UNCOUNTED_PREFIX) else len(poslist)
            yield word, counted, weights[word] * self.field_boost, self.encode(poslist)

    def encode(self, poslist) -> bytes:
        deltas = [after - before for before, after in itertools.pairwise(itertools.chain((0,), poslist))]
        typecode, data = _uint_array(deltas)
        return pack_uint(len(deltas)) + typecode.encode("ascii") + data

    def decode_positions(self, valuestring) -> list[int]:
        typecode = valuestring[_INT_SIZE]
        if typecode == _BYTE_CODE:  # most documents: every gap under 256, and bytes iterate as numbers
            return list(itertools.accumulate(valuestring[_INT_SIZE + 1:]))
        return list(itertools.accumulate(_from_bytes(chr(typecode), valuestring[_INT_SIZE + 1:])))

    def decode_frequency(self, valuestring) -> int:
        return unpack_uint(valuestring[:_INT_SIZE])[0]
