from pathlib import Path

import pytest
import yaml

from sfdd.mapping.loader import MappingError, load_mapping, load_mappings
from sfdd.mapping.model import RULE_CONVERTED_LEAD

from .conftest import minimal


def test_shipped_mappings_load(shipped_dir):
    mappings = load_mappings(shipped_dir)
    assert set(mappings) == {"contact", "lead", "membership"}
    assert mappings["membership"].source.object == "Membership__c"
    lead = mappings["lead"]
    assert lead.skip_rules() == [RULE_CONVERTED_LEAD, "email_owned_by_contact"]
    assert mappings["contact"].precedence is None


def test_error_names_file_key_and_reason(tmp_path: Path):
    data = minimal()
    data["fields"] = [
        {"source": "A", "target": "A1"},
        {"source": "B", "target": "B1"},
        {"source": "C", "target": "C1"},
        {"source": "D", "target": "First Name!"},
    ]
    path = tmp_path / "contact.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(MappingError) as exc:
        load_mapping(path)
    line = exc.value.problems[0]
    assert line.endswith(
        "contact.yaml: fields[3].target: 'First Name!' is not a valid Dotdigital data field name "
        "(letters, digits, _ and - only, at most 20 characters)"
    )


def test_yaml_syntax_error_has_position(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsource: [unclosed\n")
    with pytest.raises(MappingError, match=r"broken.yaml: line \d+, column \d+: invalid YAML"):
        load_mapping(path)


def test_non_mapping_document(tmp_path: Path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(MappingError, match="must hold a YAML mapping"):
        load_mapping(path)


def test_folder_collects_all_problems_and_duplicate_names(tmp_path: Path):
    good = minimal()
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(good))
    (tmp_path / "b.yml").write_text(yaml.safe_dump(good))
    bad = minimal()
    bad["name"] = "Bad Name"
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(bad))
    (tmp_path / "notes.txt").write_text("ignored")
    with pytest.raises(MappingError) as exc:
        load_mappings(tmp_path)
    problems = exc.value.problems
    assert len(problems) == 2
    assert "b.yml: name: 'contact_test' is already used by" in problems[0]
    assert "c.yaml: name:" in problems[1]


def test_same_datafield_with_two_types_across_files(tmp_path: Path):
    one = minimal()
    two = minimal()
    two["name"] = "other"
    two["fields"] = [{"source": "Points__c", "target": "FIRSTNAME", "type": "numeric"}]
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(one))
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(two))
    with pytest.raises(MappingError, match="data field 'FIRSTNAME' is Numeric here but String"):
        load_mappings(tmp_path)


def test_missing_folder(tmp_path: Path):
    with pytest.raises(MappingError, match="mapping folder not found"):
        load_mappings(tmp_path / "nope")


def test_mapping_package_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys; import sfdd.mapping.loader, sfdd.mapping.soql, sfdd.mapping.preflight; "
        "heavy = [m for m in ('pandas', 'pandera', 'pyarrow', 'numpy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(root / "plugins")},
    )
    assert out.stdout.strip() == ""
