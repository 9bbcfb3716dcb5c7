"""The one body-tree walk (pure): ancestors, paths, subtrees and display order from body rows."""

from kyogikai.domain.bodytree import BodyTree


def body(id, parent=None, programme="P", name=None, public=1):
    return {"id": id, "parent_id": parent, "programme_id": programme, "name": name or id, "public": public}


ROWS = [body("研究会"), body("WG1", "研究会"), body("監査G", "WG1"), body("WG2", "研究会"), body("幹事会", programme="Q")]


def test_chain_names_and_unknown_ids():
    tree = BodyTree(ROWS)
    assert [b["id"] for b in tree.chain("監査G")] == ["監査G", "WG1", "研究会"]
    assert tree.names("監査G") == ["研究会", "WG1", "監査G"]
    assert tree.chain("nope") == [] and tree.names("nope") == [] and tree.chain(None) == []


def test_walk_keeps_sibling_order_parents_first_with_depth():
    tree = BodyTree(ROWS)
    assert [(b["id"], d) for b, d in tree.walk("P")] == [("研究会", 0), ("WG1", 1), ("監査G", 2), ("WG2", 1)]
    assert [b["id"] for b in tree.children("Q")] == ["幹事会"]
    assert [b["id"] for b in tree.subtree("WG1")] == ["WG1", "監査G"]
    assert tree.subtree("nope") == []


def test_a_cycle_in_damaged_rows_does_not_hang():
    tree = BodyTree([body("A", "B"), body("B", "A")])
    assert len(tree.chain("A")) <= 3
