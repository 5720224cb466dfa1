// Shared by the tablet pages.
// ceUuid7: a UUIDv7 (48-bit ms timestamp, random rest) chosen on the tablet, so a retried
// save carries the same event id and the box stores it once.
window.ceUuid7 = function () {
  "use strict";
  var b = new Uint8Array(16); crypto.getRandomValues(b);
  var t = Date.now();
  for (var i = 5; i >= 0; i--) { b[i] = t % 256; t = Math.floor(t / 256); }
  b[6] = (b[6] & 0x0f) | 0x70; b[8] = (b[8] & 0x3f) | 0x80;
  var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
};
