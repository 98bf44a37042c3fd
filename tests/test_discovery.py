"""scripts.config.discovery: which images the workflow processes, and under which id."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.config.discovery import (
    DiscoveryError,
    discover_images,
    image_id,
    index_images,
    list_candidates,
    read_sample_sheet,
)

EXTENSIONS = [".tif", ".tiff", ".png"]


def discover(config):
    """discover_images(), each image as its path."""
    return {image_id: image.path for image_id, image in discover_images(config).items()}


def touch(folder, *names):
    for name in names:
        path = Path(folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not read by discovery")
    return folder


def folder_config(spec, extensions=EXTENSIONS):
    return {"input": str(spec), "extensions": list(extensions), "samples": None}


# ---------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a.tif", "a"),
        ("plate 1.well B2.tif", "plate 1.well B2"),
        ("sample.2024.01.ome.tif", "sample.2024.01.ome"),
        ("Zellkern µ-ü 細胞.TIFF", "Zellkern µ-ü 細胞"),
        ("dir.d/x.png", "x"),
    ],
)
def test_image_id_is_the_name_without_the_last_suffix(name, expected):
    assert image_id(name) == expected


# ---------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------


def test_folder_with_mixed_case_suffixes(tmp_path):
    touch(tmp_path, "a.tif", "B.TIF", "c.Tiff", "d.PNG", "e.tiff", "notes.txt", "f.jpg", "g")
    images = discover(folder_config(tmp_path))
    assert images == {
        "B": str(tmp_path / "B.TIF"),
        "a": str(tmp_path / "a.tif"),
        "c": str(tmp_path / "c.Tiff"),
        "d": str(tmp_path / "d.PNG"),
        "e": str(tmp_path / "e.tiff"),
    }


def test_configured_extensions_compare_case_insensitively(tmp_path):
    touch(tmp_path, "a.tif", "b.TIF", "c.png", "d.jpeg")
    images = discover(folder_config(tmp_path, [".TIF", ".JPEG"]))
    assert sorted(images) == ["a", "b", "d"]


def test_ids_with_spaces_unicode_and_several_dots(tmp_path):
    names = ["plate 1.well B2.tif", "Zellkern µ-ü 細胞.tif", "sample.2024.01.ome.tiff", "x.y.png"]
    touch(tmp_path, *names)
    images = discover(folder_config(tmp_path))
    assert images == {image_id(name): str(tmp_path / name) for name in names}
    assert "sample.2024.01.ome" in images and "x.y" in images


def test_subfolders_and_folders_named_like_images_are_ignored(tmp_path):
    touch(tmp_path, "a.tif", "sub/b.tif")
    (tmp_path / "folder.tif").mkdir()
    assert discover(folder_config(tmp_path)) == {"a": str(tmp_path / "a.tif")}


def test_output_is_sorted_whatever_the_creation_order(tmp_path):
    names = ["m.tif", "b.tif", "Z.tif", "a.png", "ä.tif", "a10.tif", "a2.tif"]
    results = []
    for attempt, order in enumerate([names, names[::-1], sorted(names)]):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        touch(folder, *order)
        images = discover(folder_config(folder))
        results.append([(key, Path(path).name) for key, path in images.items()])
        assert list(images) == sorted(images)
        assert list_candidates(str(folder), EXTENSIONS) == sorted(str(folder / n) for n in names)
    assert results[0] == results[1] == results[2]
    assert [key for key, _ in results[0]] == ["Z", "a", "a10", "a2", "b", "m", "ä"]


def test_duplicate_ids_name_both_files(tmp_path):
    touch(tmp_path, "a.tif", "a.png", "b.tif")
    with pytest.raises(DiscoveryError) as error:
        discover(folder_config(tmp_path))
    message = str(error.value)
    assert "two images have the id 'a'" in message
    assert str(tmp_path / "a.tif") in message
    assert str(tmp_path / "a.png") in message


def test_duplicate_ids_differing_only_in_suffix_case(tmp_path):
    touch(tmp_path, "a.tif", "a.TIF")
    with pytest.raises(DiscoveryError, match="two images have the id 'a'"):
        discover(folder_config(tmp_path))


def test_empty_folder_is_an_error_naming_the_input(tmp_path):
    with pytest.raises(DiscoveryError) as error:
        discover(folder_config(tmp_path))
    assert str(tmp_path) in str(error.value)
    assert "no images found" in str(error.value)
    assert ".tif, .tiff, .png" in str(error.value)


def test_a_folder_with_images_only_in_subfolders_gets_a_glob_to_take_them(tmp_path):
    touch(tmp_path, "plate1/A01/f1.tif", "plate1/A01/f2.tif", "plate1/B02/f1.tif", "notes.txt")
    with pytest.raises(DiscoveryError) as error:
        discover(folder_config(tmp_path))
    message = str(error.value)
    assert "no images in the folder itself, but 3 in its subfolders" in message
    assert f"e.g. {tmp_path / 'plate1' / 'A01' / 'f1.tif'}" in message
    assert f"--config 'input={tmp_path}/**/*.tif'" in message


def test_folder_without_matching_suffixes_is_an_error(tmp_path):
    touch(tmp_path, "notes.txt", "image.jpg")
    with pytest.raises(DiscoveryError, match="no images found"):
        discover(folder_config(tmp_path))


def test_non_existent_folder_is_an_error_naming_it_and_the_key(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(DiscoveryError) as error:
        discover(folder_config(missing))
    assert repr(str(missing)) in str(error.value)
    assert "config key 'input'" in str(error.value)


def test_a_file_name_with_braces_is_refused_naming_it(tmp_path):
    """Snakemake would read 'odd {name}' as a pattern with a wildcard."""
    touch(tmp_path, "odd {name}.tif")
    with pytest.raises(DiscoveryError) as error:
        discover(folder_config(tmp_path))
    message = str(error.value)
    assert "image id 'odd {name}'" in message and "odd {name}.tif" in message
    assert "braces" in message


def test_a_hidden_id_is_refused_with_a_message():
    """An id starting with '.' (possible in a sample sheet) would make hidden outputs."""
    from scripts.config.discovery import index_images

    with pytest.raises(DiscoveryError, match=r"image id '\.hidden' .* not usable as a file name"):
        index_images([("a", "a.tif"), (".hidden", ".hidden.tif")], "sheet")


# ---------------------------------------------------------------------------
# Glob patterns
# ---------------------------------------------------------------------------


def test_glob_pattern(tmp_path):
    touch(tmp_path, "p1/a_w1.tif", "p1/a_w2.tif", "p2/b_w1.tif", "p2/deep/c_w1.tif", "d_w1.png")
    images = discover(folder_config(f"{tmp_path}/**/*_w1.tif"))
    assert images == {
        "a_w1": str(tmp_path / "p1" / "a_w1.tif"),
        "b_w1": str(tmp_path / "p2" / "b_w1.tif"),
        "c_w1": str(tmp_path / "p2" / "deep" / "c_w1.tif"),
    }


def test_glob_results_are_filtered_by_extension(tmp_path):
    touch(tmp_path, "a.tif", "b.png", "c.txt", "d.jpg")
    images = discover(folder_config(f"{tmp_path}/*", [".tif", ".png"]))
    assert sorted(images) == ["a", "b"]


@pytest.mark.parametrize("pattern", ["[ab].tif", "?.tif"])
def test_other_glob_characters(tmp_path, pattern):
    touch(tmp_path, "a.tif", "b.tif", "cc.tif")
    assert sorted(discover(folder_config(f"{tmp_path}/{pattern}"))) == ["a", "b"]


def test_glob_matching_nothing_is_an_error_naming_the_pattern(tmp_path):
    pattern = f"{tmp_path}/*.tif"
    with pytest.raises(DiscoveryError) as error:
        discover(folder_config(pattern))
    assert repr(pattern) in str(error.value)
    assert "no images found" in str(error.value)


def test_glob_over_folders_with_the_same_file_name_is_a_duplicate(tmp_path):
    touch(tmp_path, "plate1/A01.tif", "plate2/A01.tif")
    with pytest.raises(DiscoveryError) as error:
        discover(folder_config(f"{tmp_path}/*/*.tif"))
    assert str(tmp_path / "plate1" / "A01.tif") in str(error.value)
    assert str(tmp_path / "plate2" / "A01.tif") in str(error.value)
    assert "use a sample sheet" in str(error.value)


# ---------------------------------------------------------------------------
# Sample sheets
# ---------------------------------------------------------------------------


def write_sheet(path, text):
    Path(path).write_text(text, encoding="utf-8")
    return str(path)


def test_sample_sheet_with_relative_and_absolute_paths(tmp_path):
    touch(tmp_path, "images/x.tif", "elsewhere/y.png")
    sheet = write_sheet(
        tmp_path / "samples.tsv",
        f"id\tpath\nwell B\timages/x.tif\nalpha\t{tmp_path / 'elsewhere' / 'y.png'}\n",
    )
    images = discover({"samples": sheet, "input": "ignored", "extensions": [".tif"]})
    assert images == {
        "alpha": str(tmp_path / "elsewhere" / "y.png"),
        "well B": str(tmp_path / "images" / "x.tif"),
    }
    assert list(images) == ["alpha", "well B"]


def test_sample_sheet_relative_paths_are_relative_to_the_sheet_not_the_cwd(tmp_path, monkeypatch):
    touch(tmp_path, "sheets/img/x.tif")
    sheet = write_sheet(tmp_path / "sheets" / "s.tsv", "id\tpath\nx\timg/x.tif\n")
    monkeypatch.chdir(tmp_path)
    assert read_sample_sheet(sheet) == [("x", str(tmp_path / "sheets" / "img" / "x.tif"))]


def test_sample_sheet_ids_need_not_match_file_names(tmp_path):
    touch(tmp_path, "a/img.tif", "b/img.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\nplate1\ta/img.tif\nplate2\tb/img.tif\n")
    assert sorted(discover({"samples": sheet})) == ["plate1", "plate2"]


def test_sample_sheet_missing_image_names_the_line_and_the_id(tmp_path):
    touch(tmp_path, "a.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\nfirst\ta.tif\nsecond\tgone.tif\n")
    with pytest.raises(DiscoveryError) as error:
        discover({"samples": sheet})
    message = str(error.value)
    assert message == f"sample sheet {sheet}, line 3: image 'gone.tif' of id 'second' not found"


def test_sample_sheet_line_numbers_count_blank_lines(tmp_path):
    touch(tmp_path, "a.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\nfirst\ta.tif\n\nsecond\tgone.tif\n")
    with pytest.raises(DiscoveryError, match="line 4: image 'gone.tif' of id 'second'"):
        read_sample_sheet(sheet)


def test_sample_sheet_row_without_path_names_the_line(tmp_path):
    touch(tmp_path, "a.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\nfirst\ta.tif\nsecond\n")
    with pytest.raises(DiscoveryError, match=r"line 3: needs both an id and a path"):
        read_sample_sheet(sheet)


def test_sample_sheet_row_with_empty_id_names_the_line(tmp_path):
    touch(tmp_path, "a.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\n\ta.tif\n")
    with pytest.raises(DiscoveryError, match=r"line 2: needs both an id and a path"):
        read_sample_sheet(sheet)


@pytest.mark.parametrize(
    "header, found",
    [("name\tfile", "['file', 'name']"), ("id,path", "['id,path']"), ("id\tfile", "['file', 'id']")],
)
def test_sample_sheet_with_wrong_columns(tmp_path, header, found):
    touch(tmp_path, "a.tif")
    sheet = write_sheet(tmp_path / "s.tsv", f"{header}\nx\ta.tif\n")
    with pytest.raises(DiscoveryError) as error:
        read_sample_sheet(sheet)
    assert str(error.value) == (
        f"sample sheet {sheet} must have the tab-separated columns 'id' and 'path'; found {found}"
    )


def test_sample_sheet_extra_columns_are_allowed(tmp_path):
    touch(tmp_path, "a.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "condition\tid\tpath\ncontrol\tx\ta.tif\n")
    assert read_sample_sheet(sheet) == [("x", str(tmp_path / "a.tif"))]


def test_sample_sheet_duplicate_ids_name_both_files(tmp_path):
    touch(tmp_path, "a.tif", "b.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\nx\ta.tif\nx\tb.tif\n")
    with pytest.raises(DiscoveryError) as error:
        discover({"samples": sheet})
    message = str(error.value)
    assert message.startswith(f"sample sheet {sheet}: two images have the id 'x'")
    assert str(tmp_path / "a.tif") in message and str(tmp_path / "b.tif") in message


@pytest.mark.parametrize("bad_id", ["sub/x", ".x", "odd {name}", "a}b"])
def test_sample_sheet_ids_unusable_as_file_names(tmp_path, bad_id):
    touch(tmp_path, "a.tif")
    sheet = write_sheet(tmp_path / "s.tsv", f"id\tpath\n{bad_id}\ta.tif\n")
    with pytest.raises(DiscoveryError, match="not usable as a file name"):
        discover({"samples": sheet})


def test_sample_sheet_without_rows_is_an_error(tmp_path):
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\n")
    with pytest.raises(DiscoveryError, match=f"sample sheet {sheet}: no images found"):
        discover({"samples": sheet})


def test_missing_sample_sheet_names_it_and_the_key(tmp_path):
    sheet = str(tmp_path / "missing.tsv")
    with pytest.raises(DiscoveryError) as error:
        discover({"samples": sheet, "input": str(tmp_path), "extensions": EXTENSIONS})
    assert str(error.value) == f"sample sheet {sheet} not found (config key 'samples')"


def test_sample_sheet_windows_line_endings_and_utf8(tmp_path):
    touch(tmp_path, "Zelle ü.tif")
    sheet = write_sheet(tmp_path / "s.tsv", "id\tpath\r\nZelle ü\tZelle ü.tif\r\n")
    assert read_sample_sheet(sheet) == [("Zelle ü", str(tmp_path / "Zelle ü.tif"))]


# ---------------------------------------------------------------------------
# index_images
# ---------------------------------------------------------------------------


def test_index_images_sorts_and_validates():
    assert list(index_images([("b", "1"), ("a", "2")], "test")) == ["a", "b"]
    with pytest.raises(DiscoveryError, match="test: image id '' "):
        index_images([("", "x.tif")], "test")
    with pytest.raises(DiscoveryError, match="test: no images found"):
        index_images([], "test")


def test_relative_input_gives_paths_relative_to_the_working_directory(tmp_path, monkeypatch):
    touch(tmp_path, "imgs/a.tif")
    monkeypatch.chdir(tmp_path)
    assert discover(folder_config("imgs")) == {"a": os.path.join("imgs", "a.tif")}


def test_hidden_files_are_not_images(tmp_path):
    from scripts.config.discovery import list_candidates

    (tmp_path / "a.tif").write_bytes(b"x")
    (tmp_path / "._a.tif").write_bytes(b"x")
    assert list_candidates(str(tmp_path), [".tif"]) == [str(tmp_path / "a.tif")]


def test_a_folder_whose_name_looks_like_a_glob_is_a_folder(tmp_path):
    from scripts.config.discovery import list_candidates

    folder = tmp_path / "data [2024]"
    folder.mkdir()
    (folder / "b.tif").write_bytes(b"x")
    assert list_candidates(str(folder), [".tif"]) == [str(folder / "b.tif")]
