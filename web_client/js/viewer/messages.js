// The document viewer's strings (shared by every page that opens documents in place).

export const MESSAGES = {
  zh: {
    "viewer.loading": "正在打开文件……",
    "viewer.close": "关闭",
    "viewer.original": "下载原文件",
    "viewer.pages": "共 {pages} 页",
    "viewer.truncated": "仅显示前 {shown} 页，请下载原文件查看全部 {pages} 页。",
    "viewer.refused": "您无权查看此文件，或文件已不存在。",
    "viewer.failed": "文件无法打开，请下载原文件查看。",
    "viewer.notPreviewable": "此类文件无法在页面中显示，请下载原文件查看。",
    "viewer.page": "第 {page} 页",
  },
  en: {
    "viewer.loading": "Opening the file…",
    "viewer.close": "Close",
    "viewer.original": "Download the original",
    "viewer.pages": "{pages} pages",
    "viewer.truncated": "Only the first {shown} pages are shown; download the original for all {pages}.",
    "viewer.refused": "You may not open this file, or it no longer exists.",
    "viewer.failed": "The file could not be opened; download the original instead.",
    "viewer.notPreviewable": "This kind of file cannot be shown in the page; download the original instead.",
    "viewer.page": "Page {page}",
  },
};
