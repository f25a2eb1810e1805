// The optional media area: images in turn, or a looping video. A video with its sound on is
// muted while the voice speaks, and gets its sound back after.

export function startMedia(box, options) {
  const items = options.media || [];
  const quiet = { duck: () => {} };
  if (!box || !items.length) {
    if (box) box.hidden = true;
    return quiet;
  }
  box.hidden = false;
  let video = null;
  let index = -1;
  let ducked = false; // the voice speaks: the video's sound is off for now

  const show = () => {
    index = (index + 1) % items.length;
    const item = items[index];
    let node;
    if (item.video) {
      node = document.createElement("video");
      node.src = item.url;
      node.autoplay = true;
      node.loop = items.length === 1;
      node.muted = !options.media_sound || ducked;
      node.playsInline = true;
      node.addEventListener("ended", show);
      video = node;
    } else {
      node = document.createElement("img");
      node.src = item.url;
      node.alt = "";
      video = null;
      if (items.length > 1) setTimeout(show, options.media_seconds * 1000);
    }
    box.replaceChildren(node);
    if (video) video.play().catch(() => {});
  };
  show();

  return {
    duck(speaking) {
      if (!options.media_sound) return;
      ducked = speaking;
      if (video) video.muted = speaking;
    },
  };
}
