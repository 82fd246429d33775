"""netlab levels, netlab levels lint, netlab check, and --save/--save-to on exec and run."""
from netlab.cli import main


def test_levels_lists_chapters_and_par(capsys):
    assert main(["levels"]) == 0
    out = capsys.readouterr().out
    assert "Chapter 1: Pods on one node" in out and "flannel-route" in out and "par 1" in out


def test_check_grades_a_save(tmp_path, capsys):
    broken, fixed = str(tmp_path / "broken.nlsave"), str(tmp_path / "fixed.nlsave")
    assert main(["exec", "--save-to", broken, "--", "ssh", "192.168.0.21", "ip route del 172.30.0.0/16 dev flannel.1"]) == 0
    assert main(["check", "flannel-route", "--save", broken]) == 1
    assert "dropped at router/eth0" in capsys.readouterr().out
    script = tmp_path / "fix.sh"
    script.write_text("ssh 192.168.0.21\nip route add 172.30.0.0/16 dev flannel.1\n")
    assert main(["run", "--save", broken, "--save-to", fixed, str(script)]) == 0
    assert main(["check", "flannel-route", "--save", fixed]) == 0
    assert "solved: 2 changes (par 1)" in capsys.readouterr().out
    assert main(["check", "vtep-neighbour", "--save", fixed]) == 2
    assert "not of level vtep-neighbour" in capsys.readouterr().err


def test_check_refuses_a_foreign_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "x.nlsave"
    bad.write_text("hello")
    assert main(["check", "flannel-route", "--save", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a netlab save file" in err


def test_exec_from_a_save_sees_the_saved_world(tmp_path, capsys):
    s = str(tmp_path / "s.nlsave")
    assert main(["exec", "--save-to", s, "--", "kubectl", "scale", "deployment", "business-manager", "--replicas=1"]) == 0
    capsys.readouterr()
    assert main(["exec", "--save", s, "--", "kubectl", "get", "deployment", "business-manager"]) == 0
    assert "1/1" in capsys.readouterr().out


def test_lint_command_passes(capsys):
    assert main(["levels", "lint"]) == 0
    assert "levels pass" in capsys.readouterr().out
