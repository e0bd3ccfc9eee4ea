// Entering the case's video room from the case page, for the signed-in person's own seat.

import { api } from "./api.js";

/** Open the room in a new tab for the signed-in person's own seat: the tab is opened within the
 * click (so no popup blocker stands between the person and the room), then sent to the link the
 * server issues for their seat. Nobody copies a link to enter their own case's room. */
export async function enterRoom(c, side) {
  const tab = window.open("", "_blank");
  if (tab) tab.opener = null;
  try {
    const query = side ? `?side=${side}` : "";
    const { url } = await api.get(`/api/cases/${encodeURIComponent(c.id)}/invitation${query}`);
    if (tab) tab.location.replace(url);
    else window.location.assign(url);
  } catch (error) {
    tab?.close();
    throw error;
  }
}
