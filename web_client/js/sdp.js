// Interoperability with the server's WebRTC stack (aiortc).
//
// aiortc builds every offer it makes from its own fixed numbering — payload types opus=96,
// VP8=97, VP8 retransmission (rtx)=98, header extension ids sdes:mid=1, ssrc-audio-level=2,
// abs-send-time=3 — whatever the first offer/answer negotiated. Chrome refuses a re-offer that
// renumbers a header extension, and a payload type renumbered after media started makes the
// server drop our packets. So the browser's first offer already uses the server's numbering
// and only what the server forwards (Opus, VP8); then every later re-offer agrees with it.
// Documented in docs/protocol.md, "Codecs and numbering".

const SERVER_EXTENSION_IDS = {
  "urn:ietf:params:rtp-hdrext:sdes:mid": 1,
  "urn:ietf:params:rtp-hdrext:ssrc-audio-level": 2,
  "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time": 3,
};
const SERVER_PAYLOAD_TYPES = { opus: 96, vp8: 97, rtx: 98 };

/** Payload type renumbering for one m-section: old PT → new PT (PTs not listed are dropped). */
function payloadMap(lines, kind) {
  const rtpmap = new Map(); // pt -> codec name (lower case)
  const apt = new Map(); // rtx pt -> associated pt
  for (const line of lines) {
    let m = /^a=rtpmap:(\d+) ([\w-]+)\//.exec(line);
    if (m) rtpmap.set(m[1], m[2].toLowerCase());
    m = /^a=fmtp:(\d+) apt=(\d+)/.exec(line);
    if (m) apt.set(m[1], m[2]);
  }
  const map = new Map();
  const wanted = kind === "audio" ? "opus" : "vp8";
  const main = [...rtpmap].find(([, name]) => name === wanted)?.[0];
  if (main === undefined) return map;
  map.set(main, String(SERVER_PAYLOAD_TYPES[wanted]));
  if (kind === "video") {
    const rtx = [...apt].find(([pt, associated]) => associated === main && rtpmap.get(pt) === "rtx")?.[0];
    if (rtx !== undefined) map.set(rtx, String(SERVER_PAYLOAD_TYPES.rtx));
  }
  return map;
}

function rewriteSection(lines) {
  const kind = /^m=(\w+)/.exec(lines[0])[1];
  if (kind !== "audio" && kind !== "video") return lines;
  const pts = payloadMap(lines, kind);
  const out = [];
  for (const line of lines) {
    const mline = /^(m=\w+ \d+ [\w/]+) (.*)$/.exec(line);
    if (mline) {
      const kept = mline[2].split(" ").filter((pt) => pts.has(pt)).map((pt) => pts.get(pt));
      out.push(`${mline[1]} ${kept.join(" ")}`);
      continue;
    }
    const ptLine = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)( .*)?$/.exec(line);
    if (ptLine) {
      if (!pts.has(ptLine[2])) continue;
      let rest = ptLine[3] ?? "";
      rest = rest.replace(/apt=(\d+)/, (_, associated) => `apt=${pts.get(associated) ?? associated}`);
      out.push(`a=${ptLine[1]}:${pts.get(ptLine[2])}${rest}`);
      continue;
    }
    const ext = /^a=extmap:(\d+)(\/\w+)? (\S+)(.*)$/.exec(line);
    if (ext) {
      const id = SERVER_EXTENSION_IDS[ext[3]];
      if (id !== undefined) out.push(`a=extmap:${id}${ext[2] ?? ""} ${ext[3]}${ext[4]}`);
      continue;
    }
    out.push(line);
  }
  return out;
}

/** Our offer, renumbered to the server's payload types and header extension ids. */
export function alignOfferWithServer(sdp) {
  const lines = sdp.split("\r\n");
  const sections = [[]];
  for (const line of lines) {
    if (line.startsWith("m=")) sections.push([]);
    sections[sections.length - 1].push(line);
  }
  const [session, ...media] = sections;
  return [...session, ...media.flatMap(rewriteSection)].join("\r\n");
}
