const fs = require("fs");
const router = require("express").Router();
const FILE = process.env.POCKETNOTE_FILE || "notes.json";

const load = () => (fs.existsSync(FILE) ? JSON.parse(fs.readFileSync(FILE, "utf8")) : []);

router.get("/", (req, res) => res.json(load()));
router.post("/", (req, res) => {
  const all = load();
  all.push({ id: Date.now(), ...req.body });
  fs.writeFileSync(FILE, JSON.stringify(all, null, 2));
  res.status(201).json(all[all.length - 1]);
});

module.exports = router;
