//! A small W3C WebDriver client for the console and match report tests: headless Chromium
//! driven through chromedriver, both from Debian's packages. Only the commands the tests use,
//! over the same HTTP client as the other tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key WebDriver gives element references under.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn program(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "the console tests need {} ({var}); on Debian: apt-get install chromium chromium-driver, \
         or set {var} to the program",
        path.display()
    );
    path
}

/// A running chromedriver with one headless Chromium session; both end when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    http: ureq::Agent,
    shots: PathBuf,
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver on a free port and opens a session; screenshots go to `shots`.
    pub fn start(shots: &Path) -> Browser {
        let chrome = program("CHROME", "/usr/bin/chromium");
        let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut b = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http,
            shots: shots.to_owned(),
        };
        std::fs::create_dir_all(shots).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = b
                .http
                .get(format!("{}/status", b.base))
                .call()
                .ok()
                .and_then(|r| r.into_body().read_to_string().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chrome,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1400"],
            },
        } } });
        let v = b.send("POST", "/session", Some(caps));
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        b.base = format!("{}/session/{id}", b.base);
        b
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_send(method, path, body)
            .unwrap_or_else(|v| panic!("WebDriver {method} {path} failed: {v}"))
    }

    /// The command's value, or WebDriver's error object.
    fn try_send(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let url = format!("{}{path}", self.base);
        let resp = match method {
            "GET" => self.http.get(url).call(),
            "DELETE" => self.http.delete(url).call(),
            _ => self
                .http
                .post(url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or(json!({})).to_string()),
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let ok = resp.status().is_success();
        let v: Value = serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap();
        if ok { Ok(v["value"].clone()) } else { Err(v) }
    }

    pub fn goto(&self, url: &str) {
        self.send("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.send("GET", "/url", None).as_str().unwrap().to_owned()
    }

    pub fn source(&self) -> String {
        self.send("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn find(&self, css: &str) -> Element {
        let v = self.send(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        Element(v[ELEMENT].as_str().unwrap().to_owned())
    }

    pub fn fill(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.send("POST", &format!("/element/{}/clear", e.0), Some(json!({})));
        self.send(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        );
    }

    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.send("POST", &format!("/element/{}/click", e.0), Some(json!({})));
    }

    /// Clicks a link or a submit button and waits for the next page to load.
    pub fn follow(&self, css: &str) {
        let old = self.root();
        self.click(css);
        self.wait_for_new_page(old.as_deref(), css);
    }

    /// The current document's root element: a new page has a new one. Between two documents
    /// there may be none: that is "not yet", not a failure.
    fn root(&self) -> Option<String> {
        self.try_send(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": "html" })),
        )
        .ok()
        .and_then(|v| v[ELEMENT].as_str().map(str::to_owned))
    }

    fn wait_for_new_page(&self, old: Option<&str>, after: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.root() {
                Some(now) if Some(now.as_str()) != old => return,
                _ => {}
            }
            assert!(Instant::now() < deadline, "no new page after {after}");
            std::thread::yield_now();
        }
    }

    /// Every element matching `css` (none is not an error).
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self.send(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| Element(e[ELEMENT].as_str().unwrap().to_owned()))
            .collect()
    }

    pub fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.send("GET", &format!("/element/{}/text", e.0), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Runs `script` as a function body in the page and gives what it returns.
    pub fn execute(&self, script: &str) -> Value {
        self.send(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Runs `script` as a function body in the page and gives what it passes to its callback,
    /// `arguments[0]` (for a promise's result).
    pub fn execute_async(&self, script: &str) -> Value {
        self.send(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// A cookie of the current page, HttpOnly ones included.
    pub fn cookie(&self, name: &str) -> String {
        self.send("GET", &format!("/cookie/{name}"), None)["value"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Saves a PNG of the window as `NAME.png` in the screenshot folder.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.send("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Browser {
    /// Sets the window's outer size in CSS pixels.
    pub fn resize(&self, width: u32, height: u32) {
        self.send(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Presses keys on whatever has the focus (WebDriver key codes: `\u{E004}` is Tab,
    /// `\u{E007}` Enter, `\u{E00D}` Space).
    pub fn keys(&self, text: &str) {
        let actions: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                [
                    json!({ "type": "keyDown", "value": c.to_string() }),
                    json!({ "type": "keyUp", "value": c.to_string() }),
                ]
            })
            .collect();
        self.send(
            "POST",
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        );
    }

    /// The `id` of the element that has the focus (empty if it has none).
    pub fn focused_id(&self) -> String {
        self.execute("return document.activeElement ? document.activeElement.id : ''")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Presses Tab until the element with this `id` has the focus; fails after `most` presses.
    pub fn tab_to(&self, id: &str, most: usize) {
        for _ in 0..most {
            if self.focused_id() == id {
                return;
            }
            self.keys("\u{E004}");
        }
        assert_eq!(self.focused_id(), id, "#{id} not reached with {most} Tabs");
    }

    /// Presses a key that loads a new page (Enter on a link or a button) and waits for it.
    pub fn press_and_wait(&self, key: &str) {
        let old = self.root();
        self.keys(key);
        self.wait_for_new_page(old.as_deref(), "a key press");
    }

    /// Runs axe-core (from npm: `npm ci --prefix tests/axe`) on the current page against WCAG
    /// 2.2 A and AA and axe's best practices; each violation as "rule: target (help)".
    pub fn axe(&self) -> Vec<String> {
        let path = std::env::var_os("AXE_CORE").map_or_else(
            || {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../tests/axe/node_modules/axe-core/axe.min.js")
            },
            PathBuf::from,
        );
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the accessibility checks need axe-core at {} ({e}): run `npm ci --prefix \
                 tests/axe`, or set AXE_CORE to axe.min.js",
                path.display()
            )
        });
        let script = format!(
            "const done = arguments[arguments.length - 1];\n{source}\n\
             axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', \
             'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }} }})\
             .then(r => done(r.violations.map(v => v.id + ': ' + \
             v.nodes.map(n => n.target.join(' ')).join(', ') + ' (' + v.help + ')')))\
             .catch(e => done(['axe failed: ' + e]));"
        );
        let v = self.execute_async(&script);
        v.as_array()
            .unwrap_or_else(|| panic!("axe gave {v}"))
            .iter()
            .map(|x| x.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The page's width beyond the window's: 0 when nothing scrolls sideways.
    pub fn overflow_x(&self) -> i64 {
        self.execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        .as_i64()
        .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.base.contains("/session/") {
            let _ = self.http.delete(&self.base).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
