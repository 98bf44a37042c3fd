"""A minimal writer of Leica LIF files, for tests only.

No LIF of a plain XY multichannel acquisition with a permissive licence
could be found to ship as test data, so the tests write their own: the
binary layout and XML elements of "Leica Image File Formats - LIF, XLEF,
XLLF, LOF, Version 3.2" (Leica Microsystems, 2016), as LAS X writes them
for the parts a reader needs: the XML header (UTF-16), then one memory block
per series (the root's is empty). Channels are stored as consecutive planes
(X fastest, then Y, then channel), then Z, T and M; lengths in metres.
The same call always gives the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

import numpy as np

#: numpy axis letter -> LIF DimID (C is not a dimension: it is the channel list).
DIM_IDS = {"X": 1, "Y": 2, "Z": 3, "T": 4, "λ": 5, "M": 10}


@dataclass
class Series:
    """One image series: `pixels` with axes `axes` (e.g. "ZCYX", slow to fast,
    Y and X last), uint8 or uint16; steps in µm per spatial axis."""

    name: str
    pixels: np.ndarray
    axes: str
    luts: list = field(default_factory=list)
    steps_um: dict = field(default_factory=dict)


def _dimension(axis, count, bytes_inc, step_um):
    if axis == "T":
        length, unit = (count - 1) * 1.0, "s"
    else:
        length, unit = (count - 1) * step_um * 1e-6, "m"
    return (
        f'<DimensionDescription DimID="{DIM_IDS[axis]}" NumberOfElements="{count}" '
        f'Origin="0" Length="{length!r}" Unit="{unit}" BitInc="0" BytesInc="{bytes_inc}"/>'
    )


def _series_xml(series, block_id):
    pixels, axes = series.pixels, series.axes
    assert axes.endswith("YX"), axes
    itemsize = pixels.dtype.itemsize
    sizes = dict(zip(axes, pixels.shape))
    channels = sizes.get("C", 1)
    luts = series.luts or ["Gray"] * channels
    resolution = 8 * itemsize
    channel_xml = "".join(
        f'<ChannelDescription DataType="0" ChannelTag="0" Resolution="{resolution}" '
        f'NameOfMeasuredQuantity="" Min="0" Max="{2 ** resolution - 1}" Unit="" '
        f'LUTName={quoteattr(luts[c])} IsLUTInverted="0" '
        f'BytesInc="{c * sizes["Y"] * sizes["X"] * itemsize}" BitInc="0"/>'
        for c in range(channels)
    )
    dims, stride = [], itemsize
    for axis in reversed(axes):  # fastest first
        if axis == "C":
            stride *= channels
            continue
        dims.append(_dimension(axis, sizes[axis], stride, series.steps_um.get(axis, 1.0)))
        stride *= sizes[axis]
    return (
        f"<Element Name={quoteattr(series.name)} Visibility=\"1\" CopyOption=\"1\" "
        f"UniqueID=\"00000000-0000-0000-0000-{block_id:012d}\"><Data><Image TextDescription=\"\">"
        f"<ImageDescription><Channels>{channel_xml}</Channels>"
        f"<Dimensions>{''.join(dims)}</Dimensions></ImageDescription></Image></Data>"
        f"<Memory Size=\"{pixels.nbytes}\" MemoryBlockID=\"MemBlock_{block_id}\"/>"
        "<Children/></Element>"
    )


def _memory_block(block_id, data):
    name = f"MemBlock_{block_id}".encode("utf-16-le")
    return (
        struct.pack("<IIBQBI", 0x70, 0, 0x2A, len(data), 0x2A, len(name) // 2) + name + data
    )


def _stored_bytes(series):
    """Pixels in LIF order: the channel axis just outside Y and X."""
    axes = series.axes
    pixels = series.pixels
    if "C" in axes:
        order = [i for i, a in enumerate(axes) if a not in "CYX"] + [axes.index("C")]
        order += [axes.index("Y"), axes.index("X")]
        pixels = np.transpose(pixels, order)
    return np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder("<")).tobytes()


def write_lif(path, series, project="test project"):
    """Write the `series` (a list of :class:`Series`) as one LIF project."""
    children = "".join(_series_xml(s, k + 1) for k, s in enumerate(series))
    xml = (
        '<LMSDataContainerHeader Version="2">'
        f'<Element Name={quoteattr(project)} Visibility="1" CopyOption="1" '
        'UniqueID="00000000-0000-0000-0000-000000000000"><Data><Experiment/></Data>'
        '<Memory Size="0" MemoryBlockID="MemBlock_0"/>'
        f"<Children>{children}</Children></Element></LMSDataContainerHeader>"
    ).encode("utf-16-le")
    header = struct.pack("<IIBI", 0x70, len(xml) + 5, 0x2A, len(xml) // 2) + xml
    blocks = [_memory_block(0, b"")]
    blocks += [_memory_block(k + 1, _stored_bytes(s)) for k, s in enumerate(series)]
    with open(path, "wb") as handle:
        handle.write(header + b"".join(blocks))
    return path
