"""Print one JSON line describing the device of the current Keras backend (used by the benchmarks)."""

import json

if __name__ == "__main__":
    import keras

    from benchmarks.common import device_info

    print(json.dumps(device_info(keras.backend.backend())))
