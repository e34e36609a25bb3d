"""The readmes source (seed 001): repositories -> README, file tree, facts -> chunks.

collect.py gathers repositories (local folders, git clones, the GitHub API through ports
adapters implement), tree.py lists their files, facts.py infers language, project type,
licence and key files, chunking.py splits READMEs, instruct.py asks the teacher for one
instruction per chunk, records.py writes the seed's SFT files and provider.py gives the
pipeline its examples.
"""
