// The 404 page: translated like every other page.

import { startPage } from "./common.js";

startPage();
