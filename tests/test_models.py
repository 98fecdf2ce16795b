"""The loaders: the real loading calls against the planted stand-in caches, and clear offline errors."""
import json
import os
import subprocess
import sys
import urllib.error

import pytest
import torch

from coursekit import models
from coursekit.models import STANDIN_NOTICE, WeightsUnavailableError, load_resnet18, load_vit
from course_copy import ROOT
from tools.standin_weights import resnet18_checkpoint_path


@pytest.fixture
def fresh_notice(monkeypatch):
    """Let the once-per-process stand-in notice be printed again."""
    monkeypatch.setattr(models, "_notice_shown", False)


def test_resnet18_is_loaded_from_the_torch_cache_in_eval_mode(fresh_notice, capsys):
    model = load_resnet18()
    planted = torch.load(resnet18_checkpoint_path(os.environ["TORCH_HOME"]), weights_only=True)
    assert not model.training
    assert all(torch.equal(model.state_dict()[name], value) for name, value in planted.items())
    assert STANDIN_NOTICE in capsys.readouterr().out


def test_stand_in_notice_is_printed_once_per_process(fresh_notice, capsys):
    load_resnet18()
    load_resnet18()
    assert capsys.readouterr().out.count(STANDIN_NOTICE) == 1


def test_resnet18_offline_without_cache_gives_the_course_message(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(WeightsUnavailableError) as caught:
        load_resnet18()
    message = str(caught.value)
    assert "가중치를 내려받지 못했습니다" in message and "Could not download" in message
    assert "TORCH_HOME" in message and str(tmp_path) in message and "make weights" in message
    assert caught.value.__suppress_context__, "the network traceback must not be chained under the message"


@pytest.fixture(scope="module")
def vit():
    return load_vit()


def test_vit_is_loaded_with_eager_attention_and_its_processor(vit):
    model, processor = vit
    assert not model.training
    assert model.config._attn_implementation == "eager"
    assert model.config.course_standin_weights is True
    assert list(processor.image_mean) == [0.5, 0.5, 0.5] and list(processor.image_std) == [0.5, 0.5, 0.5]
    assert model.config.id2label[281] == "tabby"  # the label names ride along in the config


def test_vit_returns_one_attention_tensor_per_layer(vit):
    model, _ = vit
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 224, 224), output_attentions=True)
    assert len(out.attentions) == model.config.num_hidden_layers == 12
    assert out.attentions[0].shape == (1, 12, 197, 197)


def test_vit_stand_in_notice(fresh_notice, capsys):
    load_vit()
    assert STANDIN_NOTICE in capsys.readouterr().out


VIT_OFFLINE_PROBE = """
import json
from utils import load_vit, WeightsUnavailableError
try:
    load_vit()
except WeightsUnavailableError as err:
    print(json.dumps({"message": str(err), "suppressed": err.__suppress_context__}))
"""


def test_vit_offline_without_cache_gives_the_course_message(tmp_path):
    env = {**os.environ, "HF_HOME": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "hub"),
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", VIT_OFFLINE_PROBE], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "가중치를 내려받지 못했습니다" in report["message"] and "Could not download" in report["message"]
    assert "HF_HOME" in report["message"] and str(tmp_path) in report["message"]
    assert report["suppressed"]
