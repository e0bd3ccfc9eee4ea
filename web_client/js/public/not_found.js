// The error pages (404 and 500): translated like every other page.

import { startPage } from "./common.js";

startPage();
