"""The plugin's own tests: is it installed, and is its metadata the network it trains?"""

import json

from dfbench import plugins
from dfbench.cli import main


def test_plugin_is_installed(capsys):
    main(["detectors", "--json"])
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)["detectors"]}
    assert listed["x3d_example"]["plugin"] == "dfbench-x3d-example"


def test_parameter_count_is_the_networks():
    spec = plugins.get_detector("x3d_example")
    for size, expected in spec.meta.sizes.items():
        detector = spec.create(size)
        network = detector.build_model(detector.load_config())
        assert sum(p.numel() for p in network.parameters()) == expected.parameters
