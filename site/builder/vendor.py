"""Third-party JavaScript the lab's own components load, from npm, verified by npm's sha512 and
unpacked into site/webnet_lab/components/vendor/ (not in git: build.py env and wheel put it there,
so `panel serve` and the lab's wheel have the same files).

- CodeJar (MIT): the Exercises tab's code editor, an editable element with indentation and history;
- Prism (MIT): its Python syntax highlighting.
"""
from __future__ import annotations

import tarfile

from .common import LAB
from .fetch import npm_tarball

VENDOR = LAB / "webnet_lab" / "components" / "vendor"
PACKAGES = {  # name: (version, npm dist.integrity, {file in the tarball: file in vendor/})
    "codejar": ("4.3.0", "A7BlrtD2oHR4xsABs/lLvDNxiPxkx71SuyHhcilBHbPMASpQs4d1AG2XjDSAm7y40RmfXbSGbMBhllGy//CDOA==",
                {"package/dist/codejar.js": "codejar.js", "package/LICENSE": "codejar.LICENSE.txt"}),
    "prismjs": ("1.30.0", "DEvV2ZF2r2/63V+tK8hQvrR2ZGn10srHbXviTlcv7Kpzw8jWiNTqbVgjO3IY8RxrrOUF8VPMQQFysYYYv0YZxw==",
                {"package/components/prism-core.min.js": "prism-core.min.js",
                 "package/components/prism-python.min.js": "prism-python.min.js",
                 "package/LICENSE": "prism.LICENSE.txt"}),
}


def vendor_lab():
    """Unpack the pinned files into VENDOR (written only where they differ)."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, (version, sha512, files) in PACKAGES.items():
        with tarfile.open(npm_tarball(name, version, sha512)) as tar:
            for member, target in files.items():
                data = tar.extractfile(member).read()
                path = VENDOR / target
                if not path.exists() or path.read_bytes() != data:
                    path.write_bytes(data)
