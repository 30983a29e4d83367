// The video call of a consultation, on the patient's waiting room and the provider's exam page
// (docs/video.md). Camera and microphone first; then the signalling WebSocket; the provider always makes
// the offer, so the two sides never offer at once. Chat works over the same socket whether or not the
// media does: when the camera is refused or the connection fails, the page says so and chat goes on.
(() => {
  const box = document.querySelector("[data-call]");
  if (!box || box.dataset.started) return;
  const role = box.dataset.callRole; // "patient" or "provider"
  const peerName = role === "provider" ? "Patient" : "Provider";
  const iceServers = readIceServers();
  const localVideo = box.querySelector("#local");
  const remoteVideo = box.querySelector("#remote");
  const statusLine = box.querySelector("[data-role=call-status]");
  const mediaLine = box.querySelector("[data-role=media-status]");
  const playButton = box.querySelector("[data-role=play]");
  const chatLog = box.querySelector("[data-role=chat-log]");
  const chatForm = box.querySelector("[data-role=chat-form]");
  const chatInput = chatForm.querySelector("input[name=text]");
  const chatButton = chatForm.querySelector("button");
  const RETRY_MS = 2000;
  const MAX_RETRIES = 10;
  const FINAL_CLOSES = {
    1008: "You cannot join this call.",
    1009: "A message was too large; reload the page to rejoin.",
    4000: "The consultation has ended.",
    4001: "This call is open in another window.",
  };

  let stream = null; // our camera and microphone, or null when unavailable
  let socket = null;
  let pc = null;
  let remoteDescribed = false;
  let pendingCandidates = [];
  let retries = 0;
  let offers = 0; // the provider numbers its offers; an answer to an older one is ignored
  let ended = false;
  let chain = Promise.resolve(); // every message is handled in order, each after the one before

  function readIceServers() {
    const element = document.getElementById("ice-servers");
    try {
      const servers = JSON.parse(element ? element.textContent : "[]");
      return Array.isArray(servers) ? servers : [];
    } catch (error) {
      return [];
    }
  }

  function say(line, text) {
    if (line) line.textContent = text;
  }

  function addChatLine(who, text) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = `${who}: `;
    item.append(name, document.createTextNode(text)); // never HTML
    item.dataset.from = who === "You" ? "me" : "peer";
    chatLog.append(item);
    chatLog.scrollTop = chatLog.scrollHeight;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  async function openMedia() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      mediaFailed("This browser cannot use a camera here. You can still chat below.");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      });
      localVideo.srcObject = stream;
    } catch (error) {
      stream = null;
      mediaFailed("Your camera or microphone is not available. You can still chat below.");
    }
  }

  function mediaFailed(text) {
    box.dataset.media = "failed";
    localVideo.hidden = true;
    say(mediaLine, text);
    mediaLine.hidden = false;
  }

  function closePeer() {
    if (pc) {
      pc.onicecandidate = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
    pc = null;
    remoteDescribed = false;
    pendingCandidates = [];
    remoteVideo.srcObject = null;
  }

  function newPeer() {
    closePeer();
    const peer = new RTCPeerConnection({ iceServers });
    pc = peer;
    if (stream) {
      for (const track of stream.getTracks()) peer.addTrack(track, stream);
    } else if (role === "provider") {
      // Without a camera we still receive the patient's video and sound.
      peer.addTransceiver("audio", { direction: "recvonly" });
      peer.addTransceiver("video", { direction: "recvonly" });
    }
    peer.onicecandidate = (event) => {
      send({ type: "candidate", candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    peer.ontrack = (event) => {
      const remote = event.streams[0] || new MediaStream([event.track]);
      if (remoteVideo.srcObject !== remote) {
        remoteVideo.srcObject = remote;
        play();
      }
    };
    peer.onconnectionstatechange = () => {
      if (pc !== peer) return;
      if (peer.connectionState === "connected") {
        box.dataset.connection = "connected";
        say(statusLine, `Connected to your ${peerName.toLowerCase()}.`);
      } else if (peer.connectionState === "failed") {
        box.dataset.connection = "failed";
        say(statusLine, "The video could not connect. You can keep chatting below.");
      }
    };
    return peer;
  }

  function play() {
    const playing = remoteVideo.play();
    if (playing && playing.catch) {
      playing.then(() => { playButton.hidden = true; }).catch(() => { playButton.hidden = false; });
    }
  }

  async function flushCandidates() {
    const queued = pendingCandidates;
    pendingCandidates = [];
    for (const candidate of queued) await addCandidate(candidate);
  }

  async function addCandidate(candidate) {
    try {
      await pc.addIceCandidate(candidate || null);
    } catch (error) {
      // A candidate the browser cannot use: the others may still connect.
    }
  }

  async function makeOffer() {
    const peer = newPeer();
    const offer = await peer.createOffer();
    await peer.setLocalDescription(offer);
    offers += 1;
    send({ type: "offer", sdp: offer.sdp, call: offers }); // the offer itself, not pc.localDescription
  }

  async function handle(message) {
    switch (message.type) {
      case "hello":
        say(statusLine, `Your ${peerName.toLowerCase()} is here. Connecting the video…`);
        if (message.media === false) addNotice(`${peerName}'s camera is not available.`);
        if (role === "provider") await makeOffer();
        else send({ type: "hello", media: Boolean(stream) }); // so the provider knows we are here
        break;
      case "offer": {
        if (role !== "patient") break;
        const peer = newPeer();
        await peer.setRemoteDescription({ type: "offer", sdp: message.sdp });
        remoteDescribed = true;
        await flushCandidates();
        const answer = await peer.createAnswer();
        await peer.setLocalDescription(answer);
        send({ type: "answer", sdp: answer.sdp, call: message.call });
        break;
      }
      case "answer":
        if (role !== "provider" || !pc || pc.signalingState !== "have-local-offer") break;
        if (message.call !== offers) break; // the answer to an offer we have since replaced
        await pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
        remoteDescribed = true;
        await flushCandidates();
        break;
      case "candidate":
        if (pc && remoteDescribed) await addCandidate(message.candidate);
        else pendingCandidates.push(message.candidate); // until the remote description is set
        break;
      case "chat":
        addChatLine(peerName, String(message.text));
        break;
      case "bye":
        closePeer();
        box.dataset.connection = "waiting";
        say(statusLine, `Your ${peerName.toLowerCase()} left the call.`);
        break;
      case "closed":
        ended = message.reason === "ended" || message.reason === "replaced";
        break;
      default:
        break; // "error" and anything newer: nothing to do
    }
  }

  function addNotice(text) {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = text;
    chatLog.append(item);
  }

  function connect(url) {
    const address = new URL(url, window.location.href);
    address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(address.toString());
    socket.onopen = () => {
      retries = 0;
      chatButton.disabled = false;
      say(statusLine, `Waiting for your ${peerName.toLowerCase()} to join the call…`);
      send({ type: "hello", media: Boolean(stream) });
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      chain = chain.then(() => handle(message)).catch(() => {
        box.dataset.connection = "failed";
        say(statusLine, "The video could not connect. You can keep chatting below.");
      });
    };
    socket.onclose = (event) => {
      chatButton.disabled = true;
      closePeer();
      const final = FINAL_CLOSES[event.code];
      if (final || ended) {
        box.dataset.connection = "closed";
        say(statusLine, final || "The call has ended.");
        if (event.code === 4000 || event.code === 4001) stopMedia();
        return;
      }
      if (retries >= MAX_RETRIES) {
        say(statusLine, "The call is not reachable. Reload the page to try again.");
        return;
      }
      retries += 1;
      say(statusLine, "Reconnecting…");
      window.setTimeout(() => connect(url), RETRY_MS);
    };
  }

  function stopMedia() {
    if (stream) for (const track of stream.getTracks()) track.stop();
  }

  chatForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = chatInput.value.trim();
    if (!text) return;
    if (send({ type: "chat", text: text.slice(0, 2000) })) {
      addChatLine("You", text);
      chatInput.value = "";
    }
  });
  playButton.addEventListener("click", play);

  async function start(url) {
    if (box.dataset.started) return;
    box.dataset.started = "yes";
    box.hidden = false;
    say(statusLine, "Starting your camera…");
    await openMedia(); // before any signalling: an offer made without the tracks would carry no media
    connect(url);
  }

  // The provider's page knows its call; the waiting room learns it once a provider takes the exam.
  if (box.dataset.callUrl) {
    start(box.dataset.callUrl);
  } else if (box.dataset.statusUrl) {
    const every = Math.max(1, Number(box.dataset.pollSeconds) || 3) * 1000;
    const poll = async () => {
      try {
        const response = await fetch(box.dataset.statusUrl, {
          cache: "no-store",
          headers: { Accept: "application/json" },
        });
        if (response.ok) {
          const status = await response.json();
          if (status.call_url) {
            start(status.call_url);
            return;
          }
          if (status.redirect) return; // meeting.js moves the page on
        }
      } catch (error) {
        // A network hiccup: try again at the next tick.
      }
      window.setTimeout(poll, every);
    };
    window.setTimeout(poll, every);
  }
  window.addEventListener("pagehide", () => {
    if (socket) socket.close(1000);
    stopMedia();
  });
})();
