"""A call between two browsers through a real TURN server (coturn), relay only.

Two Chromium contexts with Chromium's fake camera, microphone and screen: an
admin calls a user from the agent table, the user answers, and both send media
through coturn (iceTransportPolicy "relay", credentials from
GET /api/realtime/ice-servers). Each side's getStats() shows bytes received over a
relay candidate; the user then switches from camera to screen during the call.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, log_in, wait_connected
from tests.live_server import LiveServer
from tests.turn_server import TurnServer

MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",  # a generated camera picture and a beeping microphone
    "--use-fake-ui-for-media-stream",  # grant camera, microphone and screen without asking
    "--auto-select-desktop-capture-source=Entire screen",
    "--autoplay-policy=no-user-gesture-required",
]
# Every ICE candidate through coturn: a call that connects used the TURN server.
RELAY_ONLY = "window.callConfig = { iceTransportPolicy: 'relay' };"
# The browsers and coturn are what is tested here, not the database: SQLite only.
pytestmark = pytest.mark.database_pinned

IN_CALL_STATS = """async () => {
  const call = window.currentCall;
  if (!call || !call.peer || !call.peer.pc) return null;
  const stats = await call.peer.pc.getStats();
  const byId = new Map();
  stats.forEach((report) => byId.set(report.id, report));
  let received = 0, video = null, pair = null;
  stats.forEach((report) => {
    if (report.type === 'inbound-rtp') received += report.bytesReceived || 0;
    if (report.type === 'inbound-rtp' && report.kind === 'video') video = report;
    if (report.type === 'transport' && report.selectedCandidatePairId) {
      pair = byId.get(report.selectedCandidatePairId);
    }
  });
  const local = pair && byId.get(pair.localCandidateId);
  return {
    bytesReceived: received,
    videoBytes: video ? video.bytesReceived : 0,
    frameWidth: video ? video.frameWidth || 0 : 0,
    frameHeight: video ? video.frameHeight || 0 : 0,
    localCandidateType: local ? local.candidateType : null,
    state: call.peer.pc.connectionState,
  };
}"""


@pytest.fixture(scope="module")
def turn():
    server = TurnServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def call_server(turn):
    env = {"TURN_URLS": turn.url, "TURN_SECRET": turn.secret, "TURN_TTL_SECONDS": "600"}
    live = LiveServer(database="sqlite", env=env).start()
    live.admin_id = live.create_user("support@example.com", role="ADMIN", name="Destek Ekibi")
    live.user_id = live.create_user("musteri@example.com", name="Ayşe Yılmaz")
    yield live
    live.close()


@pytest.fixture(scope="module")
def media_browser(playwright):
    """Chromium with fake media devices (its own: the flags are per browser)."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )
    yield browser
    browser.close()


@pytest.fixture
def call_page(media_browser, call_server):
    """call_page(email, path, locale) -> a signed-in page whose calls go through TURN only."""
    contexts = []

    def open_page(email: str, path: str, locale: str = "en-US"):
        context = media_browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        context.add_init_script(RELAY_ONLY)
        contexts.append(context)
        page = context.new_page()
        log_in(page, call_server.url, email)
        page.goto(call_server.url + path)
        wait_connected(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


def stats_when(page, ready, what: str, timeout: float = 40) -> dict:
    """Poll the page's call stats until `ready(stats)`; the stats then."""
    deadline = time.monotonic() + timeout
    stats = None
    while time.monotonic() < deadline:
        stats = page.evaluate(IN_CALL_STATS)
        if stats and ready(stats):
            return stats
        time.sleep(0.25)
    raise AssertionError(f"{what} not seen within {timeout}s; last stats: {stats}")


def test_a_call_through_coturn_with_a_switch_to_screen(call_page, call_server, turn, screenshot):
    user = call_page("musteri@example.com", "/client", locale="tr-TR")
    admin = call_page("support@example.com", "/admin")
    row = admin.locator(f'#agent-table tr[data-user-id="{call_server.user_id}"]')
    row.locator(".call-video").click()

    ringing = user.locator(".call-window")
    expect(ringing).to_have_attribute("data-state", "incoming")
    expect(ringing.locator(".call-status")).to_have_text("Destek Ekibi sizi görüntülü arıyor")
    expect(admin.locator(".call-window")).to_have_attribute("data-state", "ringing")
    screenshot(user, "call-incoming-tr.png")
    ringing.locator(".call-accept").click()

    for page in (user, admin):
        stats = stats_when(page, lambda s: s["bytesReceived"] > 0 and s["videoBytes"] > 0, "media")
        assert stats["localCandidateType"] == "relay", stats
    # coturn took both sides' credentials (`<expiry>:<userId>`) and relayed for them.
    for user_id in (call_server.admin_id, call_server.user_id):
        allocated = rf"user <\d+:{user_id}>: incoming packet ALLOCATE processed, success"
        assert re.search(allocated, turn.log()), turn.log()[-3000:]
    camera = stats_when(admin, lambda s: s["frameWidth"] > 0, "the user's camera")
    expect(admin.locator(".call-window .call-status")).to_contain_text("In a call with")
    screenshot(admin, "call-active.png")

    # The user shows their screen instead of the camera, without a new offer.
    user.locator(".call-window .call-screen").click()
    user.wait_for_function("() => window.currentCall.peer.videoSource === 'screen'")
    expect(user.locator(".call-sharing")).to_be_visible()
    label = user.evaluate("() => window.currentCall.peer.videoTrack.label")
    assert label.startswith("screen"), label
    camera_ratio = camera["frameWidth"] / camera["frameHeight"]

    def screen_arrives(stats):
        return (
            stats["frameHeight"] > 0
            and abs(stats["frameWidth"] / stats["frameHeight"] - camera_ratio) > 0.1
            and stats["videoBytes"] > camera["videoBytes"]
        )

    screen = stats_when(admin, screen_arrives, "the user's screen at the admin")
    assert screen["frameWidth"] / screen["frameHeight"] == pytest.approx(16 / 9, rel=0.05)
    screenshot(admin, "call-screen-share.png")
    screenshot(user, "call-sharing-tr.png")

    admin.locator(".call-window .call-hangup").click()
    expect(user.locator(".call-window .call-status")).to_have_text("Görüşme sona erdi")
    assert user.evaluate("() => window.currentCall") is None
    assert admin.evaluate("() => window.currentCall") is None


def test_a_user_calls_support_by_voice(call_page, call_server):
    """The header's "Call support" rings an admin who is online; voice only, relayed too."""
    token = call_server.login("musteri@example.com")["accessToken"]
    if call_server.get("/api/users", token).status_code == 404:
        pytest.skip("GET /api/users (the team workflow's user list) is not in this build")
    admin = call_page("support@example.com", "/admin")
    user = call_page("musteri@example.com", "/client")
    support = user.locator("#call-support")
    expect(support).to_have_text("Call support")
    support.click()

    ringing = admin.locator(".call-window")
    expect(ringing.locator(".call-status")).to_have_text("Ayşe Yılmaz is calling you")
    ringing.locator(".call-accept").click()
    for page in (user, admin):
        stats = stats_when(page, lambda s: s["bytesReceived"] > 0, "audio")
        assert stats["localCandidateType"] == "relay" and stats["videoBytes"] == 0, stats
    user.locator(".call-window .call-hangup").click()
    expect(admin.locator(".call-window .call-status")).to_have_text("Call ended")
