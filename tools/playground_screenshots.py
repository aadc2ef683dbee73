"""Screenshots of ``deepkit playground`` mid-training, for docs/user_guide/playground.rst.

    python tools/playground_screenshots.py [--out docs/user_guide/playground]

Starts the server on a free loopback port, opens each case in headless Chromium (Selenium +
chromedriver), presses play, and saves the page once the case has trained for a while (still playing),
as a small PNG (900 pixels wide, 128 colours).
"""

import argparse
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CASES = {
    "circle": ("?dataset=circle&networkShape=4,2&learningRate=0.03&optimizer=sgd", 0.25, 400),
    "xor": ("?preset=xor-hidden&showTestData=true", 0.2, 400),
    "spiral": ("?preset=spiral-features&showTestData=true", 0.15, 600),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "user_guide", "playground"))
    args = parser.parse_args(argv)
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from deepkit.playground.server import make_server
    from deepkit.viz.report_browser import find_chromium

    os.makedirs(args.out, exist_ok=True)
    server = make_server(port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = find_chromium()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,860", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        for name, (query, loss, max_epochs) in CASES.items():
            driver.get(server.url + query)
            while not driver.execute_script("return !!(window.playground && window.playground.ready)"):
                time.sleep(0.2)
            driver.find_element("id", "play-pause").click()
            start = time.monotonic()
            while time.monotonic() - start < 120:
                frame = driver.execute_script("return window.playground.frame")
                if frame["epoch"] >= max_epochs or (frame["loss"]["test"] or 9) < loss:
                    break
                time.sleep(0.2)
            path = os.path.join(args.out, f"{name}.png")
            driver.save_screenshot(path)
            driver.find_element("id", "play-pause").click()
            image = Image.open(path).convert("RGB")
            image = image.resize((900, round(image.height * 900 / image.width)), Image.LANCZOS)
            image.quantize(colors=128).save(path, optimize=True)
            print(f"{path}: epoch {frame['epoch']}, test loss {frame['loss']['test']:.3f}, "
                  f"{os.path.getsize(path) // 1024} KiB")
    finally:
        driver.quit()
        server.shutdown()
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
