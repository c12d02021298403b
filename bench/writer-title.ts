export const WRITER_TITLE = 'bench writer';
