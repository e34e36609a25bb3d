from tallyho.count import count_file


def test_counts(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("one two\n# TODO three\n")
    assert count_file(f)["todo"] == 1
