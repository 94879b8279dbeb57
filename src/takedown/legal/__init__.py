"""legal"""
