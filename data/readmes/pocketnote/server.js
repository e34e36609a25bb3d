const express = require("express");
const notes = require("./routes/notes");

const app = express();
app.use(express.json());
app.use(express.static("public"));
app.use("/api/notes", notes);
app.listen(process.env.PORT || 3000);
