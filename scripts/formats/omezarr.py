"""OME-Zarr (OME-NGFF 0.4 on Zarr v2, 0.5 on Zarr v3) images, plates and labels.

Read with the package zarr alone (MIT): an image group is read at its
full-resolution level (the first dataset of its first ``multiscales``);
the pixel size and z step are that level's ``scale`` (times the
multiscales-wide one) on axes ``x`` and ``z`` in their ``unit``; channel
names are the ``omero`` channel labels. A plate is a list of images: each
field of each well (:func:`plate_fields`); :func:`scenes` names them
``B02_f0``. Label images are written beside their image as NGFF labels
(``labels/<name>``, ``image-label`` metadata, one level per image level),
the layout napari and the ome-zarr library read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from scripts.formats import assemble, channel_list, pick_scene, reading, require, spacing_um
from scripts.imaging import DEFAULT_MAX_PIXELS, FOLDER_MODE, Calibration, ImageReadError, unit_factor

KIND = "OME-Zarr"
#: NGFF axis name -> the workflow's dimension letter.
AXES = {"t": "T", "c": "C", "z": "Z", "y": "Y", "x": "X"}
#: Axis names of NGFF 0.1 and 0.2, which stored none.
DEFAULT_AXES = ("t", "c", "z", "y", "x")
#: NGFF version written for each Zarr format.
NGFF_VERSION = {2: "0.4", 3: "0.5"}


def _zarr(path):
    return require("zarr", "zarr", ".zarr", path)


def _group(path, mode="r"):
    return _zarr(path).open_group(str(path), mode=mode)


def ome_attributes(group):
    """The NGFF metadata of a group: under ``"ome"`` in 0.5, top level before."""
    attributes = dict(group.attrs)
    return dict(attributes.get("ome", attributes))


def well_name(well_path):
    """``"B02"`` for the well path ``"B/2"`` (or ``"B/02"``); a column that
    is not a number is kept as it is (``"B/x"`` -> ``"Bx"``)."""
    row, _, column = well_path.partition("/")
    return f"{row}{int(column):02d}" if column.isdigit() else f"{row}{column}"


def is_plate(path):
    """True when `path` is the root group of an HCS plate."""
    with reading(path, KIND):
        return "plate" in ome_attributes(_group(path))


def plate_fields(path):
    """Every field of view of an HCS plate, in the plate's well order.

    Parameters
    ----------
    path : str or Path
        The plate's root group (its metadata has ``"plate"``).

    Returns
    -------
    list of (str, int, Path)
        (well name such as ``"B02"``, field index in the well from 0, path
        of the field's image group).

    Raises
    ------
    ImageReadError
        When `path` is not a plate, or a well's metadata is missing.
    """
    with reading(path, KIND):
        plate = ome_attributes(_group(path)).get("plate")
        if plate is None:
            raise ImageReadError(path, "is not an OME-Zarr plate (no 'plate' metadata)")
        fields = []
        for well in plate.get("wells", []):
            well_group = Path(path) / well["path"]
            images = ome_attributes(_group(well_group)).get("well", {}).get("images", [])
            if not images:
                raise ImageReadError(path, f"well {well['path']} has no 'well' images metadata")
            for index, image in enumerate(images):
                fields.append((well_name(well["path"]), index, well_group / image["path"]))
        return fields


def _images(path):
    """(what they are called, [(name, image group path)]) of a plate, a well
    or an image."""
    attributes = ome_attributes(_group(path))
    if "plate" in attributes:
        return "fields", [(f"{well}_f{index}", group) for well, index, group in plate_fields(path)]
    if "well" in attributes:
        images = attributes["well"].get("images", [])
        return "fields", [
            (f"f{index}", Path(path) / image["path"]) for index, image in enumerate(images)
        ]
    if "multiscales" in attributes:
        return "images", [(attributes["multiscales"][0].get("name") or None, Path(path))]
    raise ImageReadError(path, "is not an OME-Zarr image, well or plate (no NGFF metadata)")


def scenes(path):
    """``[(index, name), ...]``: the fields of a plate (``"B02_f0"``) or a
    well (``"f0"``), or the one image of an image group (its name or None).
    Metadata only."""
    with reading(path, KIND):
        return [(index, name) for index, (name, _) in enumerate(_images(path)[1])]


def _axes(multiscale):
    axes = multiscale.get("axes") or DEFAULT_AXES
    names = [axis["name"] if isinstance(axis, dict) else axis for axis in axes]
    units = [axis.get("unit") if isinstance(axis, dict) else None for axis in axes]
    return names, units


def _scale(multiscale, dataset, count):
    """Product of the dataset's and the multiscales-wide scale, per axis."""
    scale = np.ones(count)
    for transforms in (dataset.get("coordinateTransformations", []),
                       multiscale.get("coordinateTransformations", [])):
        for transform in transforms:
            if transform.get("type") == "scale":
                scale = scale * np.asarray(transform["scale"], dtype=float)
    return scale


def _image(path, group_path):
    """(multiscales entry, level-0 array, axis names, units, attributes)."""
    group = _group(group_path)
    attributes = ome_attributes(group)
    multiscales = attributes.get("multiscales")
    if not multiscales:
        raise ImageReadError(path, f"{group_path} is not an OME-Zarr image (no 'multiscales')")
    multiscale = multiscales[0]
    names, units = _axes(multiscale)
    array = group[multiscale["datasets"][0]["path"]]
    if len(names) != array.ndim:
        raise ImageReadError(
            path, f"declares {len(names)} axes {names} for an array of shape {array.shape}"
        )
    return multiscale, array, names, units, attributes


def _labels(attributes):
    """The ``omero`` channel labels of an image group ("" where unlabelled)."""
    return [c.get("label") or "" for c in attributes.get("omero", {}).get("channels", [])]


def channel_names(path, scene=None):
    """``omero`` labels of the channels of `scene` in file order ("" where
    a channel has none), one per index of the ``c`` axis; ``[]`` without a
    ``c`` axis or with one channel. `scene` as for :func:`read`. Metadata
    only."""
    with reading(path, KIND):
        what, images = _images(path)
        listed = [(k, name) for k, (name, _) in enumerate(images)]
        _, group_path = images[pick_scene(path, listed, scene, what)]
        _, array, names, _, attributes = _image(path, group_path)
        sizes = dict(zip(names, array.shape))
        return channel_list(_labels(attributes), sizes.get("c", 1))


def header_shape(path, scene=None):
    """(shape, itemsize) of the full-resolution level of `scene` (largest
    field when None)."""
    with reading(path, KIND):
        what, images = _images(path)
        if scene is not None:
            listed = [(k, name) for k, (name, _) in enumerate(images)]
            images = [images[pick_scene(path, listed, scene, what)]]
        shapes = [_image(path, group)[1] for _, group in images]
        array = max(shapes, key=lambda a: int(np.prod(a.shape, dtype=np.int64)))
        return tuple(array.shape), array.dtype.itemsize


def read(path, scene=None, channel=None, volume="refuse", max_pixels=DEFAULT_MAX_PIXELS):
    """One OME-Zarr image (or plate field) as :func:`scripts.imaging.open_image`
    gives it.

    Parameters
    ----------
    path : str or Path
        An image group, a well, or a plate.
    scene : int, str or None
        For a plate or well: index in :func:`scenes`, or the name
        (``"B02_f0"``); None for an image group.
    channel : int, str or None
        Index or ``omero`` label of the channel (required when several).
    volume : {"refuse", "3d", "max_projection"}
    max_pixels : int
        Refuse an image declaring more pixels (every channel and plane).

    Returns
    -------
    scripts.imaging.ImageData
        Full-resolution pixels as stored, shape (Y, X) or (Z, Y, X);
        calibration in µm (None when the axes have no length unit).
    """
    with reading(path, KIND):
        what, images = _images(path)
        listed = [(k, name) for k, (name, _) in enumerate(images)]
        position = pick_scene(path, listed, scene, what)
        name, group_path = images[position]
        multiscale, array, names, units, attributes = _image(path, group_path)
        notes = []
        if len(images) > 1:
            notes.append(f"reading field {name} ({position + 1} of {len(images)})")
        levels = multiscale["datasets"]
        sizes = {AXES.get(axis, axis): size for axis, size in zip(names, array.shape)}
        if len(levels) > 1:
            notes.append(
                f"multiscale image: segmenting the full-resolution level "
                f"({sizes.get('Y')} x {sizes.get('X')} px) of {len(levels)} levels"
            )
        scale = _scale(multiscale, levels[0], len(names))
        step = {}
        for axis, unit, value in zip(names, units, scale):
            factor = unit_factor(unit) if unit else None
            if axis in ("x", "z") and factor is not None:
                step[axis] = spacing_um(value, factor)
        if "x" not in step:
            notes.append("no length unit on axis x: pixel size unknown")
        channels = _labels(attributes)

        def plane(c, z):
            index = tuple(
                {"c": c, "z": z}.get(axis, slice(None) if axis in ("y", "x") else 0)
                for axis in names
            )
            return np.asarray(array[index])

        return assemble(
            path, sizes, channels, plane, Calibration(step.get("x"), step.get("z")),
            channel=channel, volume=volume, max_pixels=max_pixels, notes=notes,
        )


# --------------------------------------------------------------------------
# Writing labels
# --------------------------------------------------------------------------


def _nearest(labels, shape):
    """`labels` resampled to `shape` by nearest neighbour (label values kept)."""
    index = np.ix_(*[
        np.minimum((np.arange(n) * size) // n, size - 1) for n, size in zip(shape, labels.shape)
    ])
    return labels[index]


def _label_metadata(name, multiscale, names, units, keep, version):
    axes = []
    for axis, unit in zip(names, units):
        if axis in keep:
            kind = "time" if axis == "t" else "space"
            axes.append({"name": axis, "type": kind, **({"unit": unit} if unit else {})})
    positions = [i for i, axis in enumerate(names) if axis in keep]

    def kept(transforms):
        return [
            {"type": t["type"], t["type"]: [t[t["type"]][i] for i in positions]}
            for t in transforms
            if t.get("type") in ("scale", "translation")
        ]

    datasets = [
        {"path": d["path"], "coordinateTransformations": kept(d.get("coordinateTransformations", []))}
        for d in multiscale["datasets"]
    ]
    entry = {"name": name, "axes": axes, "datasets": datasets}
    if multiscale.get("coordinateTransformations"):
        entry["coordinateTransformations"] = kept(multiscale["coordinateTransformations"])
    image_label = {"source": {"image": "../../"}}
    if version == "0.4":
        entry["version"] = version
        image_label["version"] = version
        return {"multiscales": [entry], "image-label": image_label}
    return {"ome": {"version": version, "multiscales": [entry], "image-label": image_label}}


def write_image(path, pixels, pixel_size_um=None, z_spacing_um=None, name=None):
    """Write a gray 2D or 3D image as an OME-Zarr image group (NGFF 0.4 on
    Zarr v2, one resolution level ``0``), atomically: written to a hidden
    folder beside `path` and renamed into place; an earlier group at `path`
    is replaced whole.

    Parameters
    ----------
    path : str or Path
        The group to create (``<image>.zarr``).
    pixels : ndarray, shape (Y, X) or (Z, Y, X)
        Any integer or float dtype, stored as it is.
    pixel_size_um, z_spacing_um : float or None
        The ``scale`` of the y/x and z axes in micrometres; axes without one
        get scale 1 and no unit.
    name : str or None
        The image's name in the metadata.

    Returns
    -------
    Path
    """
    path = Path(path)
    zarr = _zarr(path)
    pixels = np.asarray(pixels)
    names = ["z", "y", "x"][-pixels.ndim :]
    scales = {"z": z_spacing_um, "y": pixel_size_um, "x": pixel_size_um}
    axes = [
        {"name": axis, "type": "space", **({"unit": "micrometer"} if scales[axis] else {})}
        for axis in names
    ]
    transforms = [{"type": "scale", "scale": [float(scales[axis] or 1.0) for axis in names]}]
    multiscale = {
        "version": NGFF_VERSION[2],
        "axes": axes,
        "datasets": [{"path": "0", "coordinateTransformations": transforms}],
        **({"name": name} if name else {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part"))
    try:
        group = zarr.open_group(str(temporary), mode="w", zarr_format=2)
        chunks = tuple(1 if axis == "z" else min(n, 1024) for axis, n in zip(names, pixels.shape))
        group.create_array("0", data=pixels, chunks=chunks)
        group.attrs.update({"multiscales": [multiscale]})
        replace_folder(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return path


def replace_folder(temporary, final):
    """Put the finished folder `temporary` in place of `final`, with the
    mode a plain mkdir gives (mkdtemp's 0700 would hide it from colleagues).
    An earlier `final` is moved aside first and then deleted: `final` is
    never a mix of the two (a killed job may leave it missing, and the moved
    folder as a hidden ``.part`` that the next run removes)."""
    temporary, final = Path(temporary), Path(final)
    os.chmod(temporary, FOLDER_MODE)
    earlier = None
    if final.exists():
        earlier = final.with_name(f".{final.name}.{os.getpid()}.old.part")
        os.replace(final, earlier)
    os.replace(temporary, final)
    if earlier is not None:
        shutil.rmtree(earlier, ignore_errors=True)


def write_labels(image_group_path, name, labels, pixel_size_um=None):
    """Write a label image as OME-Zarr labels of its image, atomically.

    The labels go to ``<image>/labels/<name>`` with ``image-label``
    metadata, in the image's NGFF version and Zarr format, with one level
    per level of the image (nearest-neighbour subsampling, the image's own
    scale and translation per level, its channel axis left out), and
    `name` is added to ``labels/``'s list. They are written to a hidden
    folder and renamed into place: a killed job leaves no half-written
    labels, and an earlier ``labels/<name>`` is replaced whole.

    Parameters
    ----------
    image_group_path : str or Path
        The image group (with ``multiscales``), e.g. a plate field.
    name : str
        Name of the label image (``"nuclei"``); no ``/``.
    labels : ndarray of integers, shape (Y, X) or (Z, Y, X)
        0 = background; the image's full-resolution size.
    pixel_size_um : float or None
        When given and the image's x and y axes have no unit, the labels'
        y and x scale (µm) at full resolution; otherwise the image's scale
        is used as it is.

    Returns
    -------
    Path
        The labels group written.

    Raises
    ------
    ValueError
        For a bad name, non-integer labels, or a shape that is not the
        image's.
    """
    image_group_path = Path(image_group_path)
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"label name {name!r} must be a plain folder name")
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    zarr = _zarr(image_group_path)
    group = zarr.open_group(str(image_group_path), mode="r")
    zarr_format = group.metadata.zarr_format
    version = NGFF_VERSION[zarr_format]
    multiscale, array, names, units, _ = _image(image_group_path, image_group_path)
    keep = [axis for axis in names if axis != "c"]
    spatial = [axis for axis in keep if axis in ("z", "y", "x")]
    shape = dict(zip(names, array.shape))
    expected = tuple(shape[axis] for axis in spatial)
    if labels.shape != expected:
        raise ValueError(
            f"{image_group_path}: labels of shape {labels.shape} for an image of "
            f"{'/'.join(spatial)} shape {expected}"
        )
    units = list(units)
    metadata = _label_metadata(name, multiscale, names, units, keep, version)
    if pixel_size_um and not any(units[names.index(a)] for a in ("y", "x")):
        _set_pixel_size(metadata, pixel_size_um, multiscale, names)
    labels_folder = image_group_path / "labels"
    labels_group = zarr.open_group(str(labels_folder), mode="a", zarr_format=zarr_format)
    temporary = Path(tempfile.mkdtemp(dir=labels_folder, prefix=f".{name}.", suffix=".part"))
    try:
        target_group = zarr.open_group(str(temporary), mode="w", zarr_format=zarr_format)
        for dataset in multiscale["datasets"]:
            level_shape = dict(zip(names, group[dataset["path"]].shape))
            data = _nearest(labels, tuple(level_shape[a] for a in spatial))
            data = data.reshape(tuple(level_shape[a] if a in spatial else 1 for a in keep))
            chunks = tuple(min(n, 1024) if a in ("y", "x") else 1 for a, n in zip(keep, data.shape))
            options = {"dimension_names": keep} if zarr_format == 3 else {}
            target_group.create_array(dataset["path"], data=data, chunks=chunks, **options)
        target_group.attrs.update(metadata)
        replace_folder(temporary, labels_folder / name)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    attributes = dict(labels_group.attrs)
    listed = ome_attributes(labels_group).get("labels", [])
    if name not in listed:
        listed = [*listed, name]
    if zarr_format == 3:
        attributes["ome"] = {**attributes.get("ome", {}), "version": version, "labels": listed}
    else:
        attributes["labels"] = listed
    labels_group.attrs.update(attributes)
    return labels_folder / name


def _set_pixel_size(metadata, pixel_size_um, multiscale, names):
    """Give y and x the unit micrometer and the scale `pixel_size_um` times
    each level's downsampling (the image has no length unit of its own)."""
    entry = (metadata.get("ome", metadata))["multiscales"][0]
    for axis in entry["axes"]:
        if axis["name"] in ("y", "x"):
            axis["unit"] = "micrometer"
    keep = [axis["name"] for axis in entry["axes"]]
    first = _scale(multiscale, multiscale["datasets"][0], len(names))
    for dataset, level in zip(entry["datasets"], multiscale["datasets"]):
        ratio = _scale(multiscale, level, len(names)) / first
        for transform in dataset["coordinateTransformations"]:
            if transform["type"] == "scale":
                for i, axis in enumerate(keep):
                    if axis in ("y", "x"):
                        transform["scale"][i] = pixel_size_um * float(ratio[names.index(axis)])
